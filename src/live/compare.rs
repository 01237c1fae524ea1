//! A live run against its simulation: the figures side by side, the strict per-attempt check
//! (each Session Present against the broker's rule applied to the times the driver saw), the
//! statistical ones (Session Present rate, retained sessions over time, each broker's `$SYS`
//! gauge), who was the bottleneck in the ramp and after it, and one verdict. A check with too
//! little to judge is "not judged", never "agrees"; a broker that failed, or a driver that fell
//! behind, is named as such and never read as the model disagreeing.

use super::measured::{Ending, Measured, Micros};
use crate::model::metrics::{Counters, EndReason};
use crate::run::Report;

/// Attempts closer than this (seconds) to a boundary of the broker's rule are not judged.
pub const GUARD_BAND: f64 = 0.25;
/// The strict check passes at this agreement or better.
pub const STRICT_AGREEMENT: f64 = 0.995;
/// Fewer judged attempts than this, and the strict check and the rate are not judged.
pub const MIN_ATTEMPTS: usize = 30;
/// The time-weighted mean of retained sessions agrees within this share.
pub const RETAINED_TOLERANCE: f64 = 0.05;
/// The broker computes `$SYS/broker/clients/disconnected` at the top of its loop, before that
/// iteration's keep-alive sweep, and sends it after the sweep's closes (Mosquitto 2.0.11,
/// loop.c: sys_tree__update, keepalive__check, mux__handle). A sample is compared with the
/// driver's count this long before the sample arrived, before the sweep's closes.
pub const SYS_LEAD: f64 = 0.005;
/// The share of `$SYS` samples that must match the driver's count (within one session and 1%).
pub const SYS_AGREEMENT: f64 = 0.9;
/// Fewer `$SYS` samples than this, and the gauge check is not judged.
pub const MIN_SYS_SAMPLES: usize = 10;
/// A broker that refreshes `$SYS` less often than this (seconds) is too slow to check against:
/// configure `sys_interval 1`.
pub const MAX_SYS_INTERVAL: f64 = 3.0;
/// A thread (or a broker) busier than this share of a core is saturated.
pub const BUSY: f64 = 0.85;
/// A machine whose cores are busier than this share (every process on it) makes a driver's
/// timers wait for a core: many processes on few cores queue.
pub const MACHINE_BUSY: f64 = 0.7;

/// What a figure's check said.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Not a check: a figure shown for information.
    Info,
    /// Judged, and live and simulated agree.
    Agrees,
    /// Judged, and they do not.
    Disagrees,
    /// Too little to judge; why.
    NotJudged(String),
}

impl Check {
    /// The check column's word.
    pub fn word(&self) -> &'static str {
        match self {
            Check::Info => "",
            Check::Agrees => "agrees",
            Check::Disagrees => "DISAGREES",
            Check::NotJudged(_) => "not judged",
        }
    }
    fn of(judged: Option<String>, agrees: bool) -> Check {
        match judged {
            Some(why) => Check::NotJudged(why),
            None if agrees => Check::Agrees,
            None => Check::Disagrees,
        }
    }
}

/// One figure, live and simulated.
#[derive(Clone, Debug)]
pub struct Row {
    /// The figure's name (a column of the simulation's summary where there is one).
    pub metric: String,
    /// As measured against the broker.
    pub live: f64,
    /// As the simulation of the same scenario, seed and broker rules gives it.
    pub simulated: f64,
    /// Its check.
    pub check: Check,
}

/// What limited a phase of the run.
#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    /// The driver kept its schedule and no broker was saturated.
    Neither,
    /// The load generator fell behind its schedule; why.
    LoadGenerator(String),
    /// The driver and the brokers together used this machine's cores.
    Machine(String),
    /// A broker was saturated (it may have held the driver's connects back).
    Broker(String),
}

impl Limit {
    /// The limit in a few words.
    pub fn word(&self) -> &'static str {
        match self {
            Limit::Neither => "neither",
            Limit::LoadGenerator(_) => "the load generator",
            Limit::Machine(_) => "the machine",
            Limit::Broker(_) => "the broker",
        }
    }
    /// Why, when something was the limit.
    pub fn why(&self) -> &str {
        match self {
            Limit::Neither => "",
            Limit::LoadGenerator(w) | Limit::Machine(w) | Limit::Broker(w) => w,
        }
    }
}

/// The ramp (until the last client's first connection was due) or the steady state after it.
#[derive(Clone, Debug)]
pub struct Phase {
    /// "ramp" or "steady" (and, merged, which shard's).
    pub name: String,
    /// Real seconds.
    pub seconds: f64,
    /// Scheduled actions in it, and how late they went out (ms).
    pub actions: u64,
    /// See `actions`.
    pub late_p50_ms: f64,
    /// See `actions`.
    pub late_p99_ms: f64,
    /// See `actions`.
    pub late_max_ms: f64,
    /// The driver's CPU, in cores (CPU seconds per second).
    pub driver_cores: f64,
    /// The busiest broker's CPU in cores, when its process could be read.
    pub broker_cores: Option<f64>,
    /// The share of this machine's cores busy (every process), NaN when unknown.
    pub machine_busy: f64,
    /// What limited it.
    pub limit: Limit,
}

/// How the run is to be read.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every check judged, and the model agrees with the broker.
    Agrees,
    /// A judged check disagrees (the driver kept up and no broker failed).
    Disagrees,
    /// Nothing disagrees but a check could not be judged; why.
    NotJudged(String),
    /// The load generator fell behind or hit this machine's limit: the figures say nothing of the
    /// model; why.
    DriverLimited(String),
    /// A broker failed; which and how.
    BrokerFailed(String),
}

impl Verdict {
    /// One line for a person.
    pub fn line(&self) -> String {
        match self {
            Verdict::Agrees => "the model agrees with the broker (every check judged)".into(),
            Verdict::Disagrees => "the model and the broker DISAGREE (see the checks below)".into(),
            Verdict::NotJudged(w) => format!("NOT JUDGED: {w}"),
            Verdict::DriverLimited(w) => {
                format!("LOAD GENERATOR LIMITED: {w}; the figures say nothing of the model or the broker")
            }
            Verdict::BrokerFailed(w) => format!("BROKER FAILED: {w}; this is the broker's failure, not the model's"),
        }
    }
}

/// The whole comparison.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Every figure.
    pub rows: Vec<Row>,
    /// The ramp and the steady state.
    pub phases: Vec<Phase>,
    /// Recovery attempts the strict check left out, within the guard band of a boundary.
    pub in_guard_band: usize,
    /// Recovery attempts without a prediction (the old connection's end was not seen).
    pub unpredicted: usize,
    /// The reading.
    pub verdict: Verdict,
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
pub fn strict_agreement<'a>(attempts: impl Iterator<Item = &'a super::measured::Attempt>) -> (f64, usize) {
    let (mut judged, mut agree) = (0usize, 0usize);
    for a in attempts.filter(|a| a.predicted.is_some() && a.margin > GUARD_BAND) {
        judged += 1;
        agree += usize::from(a.predicted == Some(a.session_present));
    }
    (if judged == 0 { f64::NAN } else { agree as f64 / judged as f64 }, judged)
}

/// Whether two proportions agree: the difference within 1.96 pooled standard errors.
fn rates_agree(p1: f64, n1: f64, p2: f64, n2: f64) -> bool {
    let pool = (p1 * n1 + p2 * n2) / (n1 + n2);
    let se = (pool * (1.0 - pool) * (1.0 / n1 + 1.0 / n2)).sqrt();
    (p1 - p2).abs() <= 1.96 * se.max(1e-12)
}

/// The simulation's retained contexts over time as (real seconds, value).
pub fn simulated_retained(sim: &Report, scale: super::scale::Scale) -> Vec<(f64, f64)> {
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

/// Of the broker's `$SYS` samples of retained sessions, how many match the driver's count at
/// the instant the broker computed them (within one session and 1%), and how many there were.
pub fn sys_matches(gauge: &[(f64, f64)], seen: &[(f64, f64)]) -> (usize, usize) {
    let samples: Vec<_> = gauge.iter().filter(|(_, v)| v.is_finite()).collect();
    let matching = samples
        .iter()
        .filter(|&&&(t, v)| {
            let d = seen_at(seen, t - SYS_LEAD) as f64;
            (v - d).abs() <= 1.0 + 0.01 * d
        })
        .count();
    (matching, samples.len())
}

/// The `$SYS` check over brokers: matching share, samples, and why it cannot be judged.
fn sys_check(m: &Measured, which: Option<usize>) -> (f64, usize, Option<String>) {
    let (mut matching, mut samples) = (0, 0);
    let mut slow = Vec::new();
    for (b, seen) in m.brokers.iter().enumerate().filter(|(b, _)| which.is_none_or(|w| w == *b)) {
        let (k, n) = sys_matches(&seen.retained, &seen.retained_seen);
        matching += k;
        samples += n;
        if let Some(i) = seen.refresh_interval().filter(|&i| i > MAX_SYS_INTERVAL) {
            slow.push(format!("{} refreshes $SYS every {i:.0} s", m.brokers[b].addr));
        }
    }
    let share = if samples == 0 { f64::NAN } else { matching as f64 / samples as f64 };
    let why = if !slow.is_empty() {
        Some(format!("{}; configure `sys_interval 1` (tests/live/broker.sh)", slow.join(", ")))
    } else if samples < MIN_SYS_SAMPLES {
        Some(format!(
            "{samples} $SYS samples (at least {MIN_SYS_SAMPLES} needed): a broker without a $SYS tree, `sys_interval` \
             too long for the run, or the monitor did not run (a shard other than 0)"
        ))
    } else {
        None
    };
    (share, samples, why)
}

/// Share of a phase's lateness and CPU: who was the limit.
fn phase(
    name: &'static str,
    seconds: f64,
    late: &Micros,
    driver_cpu: f64,
    m: &Measured,
    i: usize,
    limit_ms: f64,
) -> Phase {
    let per_second = |cpu: f64| if seconds > 0.0 { cpu / seconds } else { f64::NAN };
    let driver_cores = per_second(driver_cpu);
    let broker_cores = m.brokers.iter().filter_map(|b| b.cpu_seconds.map(|c| per_second(c[i]))).reduce(f64::max);
    let all_brokers: f64 = m.brokers.iter().filter_map(|b| b.cpu_seconds.map(|c| per_second(c[i]))).sum();
    let machine_busy = m.machine_busy[i];
    let p99 = late.ms(0.99);
    let behind = p99 > limit_ms;
    let threads = m.threads.max(1) as f64;
    let busy_broker = broker_cores.is_some_and(|c| c >= BUSY);
    let limit = if behind && driver_cores >= BUSY * threads {
        Limit::LoadGenerator(format!(
            "its {} threads used {driver_cores:.2} cores and its actions were up to {p99:.0} ms late (p99)",
            m.threads
        ))
    } else if busy_broker && behind {
        Limit::Broker(format!(
            "a broker used {:.2} of a core (Mosquitto uses one); connects waited for its CONNACKs ({p99:.0} ms late, p99)",
            broker_cores.unwrap_or(f64::NAN)
        ))
    } else if behind && (machine_busy >= MACHINE_BUSY || driver_cores + all_brokers >= BUSY * m.cores as f64) {
        Limit::Machine(format!(
            "this machine's {} cores were {:.0}% busy (the driver {driver_cores:.2} cores, the broker(s) {all_brokers:.2}, \
             the rest other processes): the driver's timers waited for a core, actions {p99:.0} ms late (p99)",
            m.cores,
            100.0 * machine_busy
        ))
    } else if behind {
        Limit::LoadGenerator(format!(
            "actions {p99:.0} ms late (p99) with CPU to spare: the connect pacing (--connect-rate, --max-inflight) or \
             other processes on this machine"
        ))
    } else if busy_broker {
        Limit::Broker(format!("a broker used {:.2} of a core (Mosquitto uses one)", broker_cores.unwrap_or(f64::NAN)))
    } else {
        Limit::Neither
    };
    Phase {
        name: name.to_string(),
        seconds,
        actions: late.len(),
        late_p50_ms: late.ms(0.5),
        late_p99_ms: p99,
        late_max_ms: late.ms(1.0),
        driver_cores,
        broker_cores,
        machine_busy,
        limit,
    }
}

/// The ramp and the steady state, with who limited each (`late_limit_ms`: the p99 lateness
/// past which the driver fell behind).
pub fn phases(m: &Measured, late_limit_ms: f64) -> Vec<Phase> {
    let steady = (m.wall_seconds - m.ramp_seconds).max(0.0);
    vec![
        phase("ramp", m.ramp_seconds, &m.timing.ramp, m.driver_cpu_seconds[0], m, 0, late_limit_ms),
        phase("steady", steady, &m.timing.steady, m.driver_cpu_seconds[1], m, 1, late_limit_ms),
    ]
}

/// Every figure, live and simulated, and the verdict. `sim` is the simulation of the same
/// scenario, seed and broker rules over the same window of time as the live run.
pub fn compare(sim: &Report, m: &Measured, late_limit_ms: f64) -> Comparison {
    let n = m.attempts.len() as f64;
    let present = m.attempts.iter().filter(|a| a.session_present).count() as f64;
    let c = &sim.outcome.metrics;
    let whole = |f: fn(&Counters) -> u64| c.whole_run(f) as f64;
    let (attempts, successes) = c.recoveries_so_far();
    let sim_cont = whole(|x| x.continuations);
    let sim_att = attempts as f64 + sim_cont;
    let sim_present = successes as f64 + sim_cont;
    let (live_rate, sim_rate) = (present / n, sim_present / sim_att);
    let (strict, judged) = strict_agreement(m.attempts.iter());
    let too_few = |k: f64, what: &str| {
        (k < MIN_ATTEMPTS as f64).then(|| format!("{k:.0} {what} (at least {MIN_ATTEMPTS} needed)"))
    };
    // Retained sessions over the whole run: the driver's own accounting (each session's gap
    // from its close to its client's return or the broker's expiry, the rule the strict check
    // confirms) against the simulation's event-based time-weighted mean over the same window.
    let seen_all: Vec<(f64, f64)> = m.brokers.iter().flat_map(|b| b.retained_seen.iter().copied()).collect();
    let seen = intervals_mean(&seen_all, 0.0, m.wall_seconds);
    let sim_retained = sim.metric("retained_contexts_mean");
    let (sys_share, sys_samples, sys_why) = sys_check(m, None);
    let sim_closed = whole(|x| x.ended[EndReason::AutoLogout as usize]);
    let row = |metric: &str, live, simulated, check| Row { metric: metric.to_string(), live, simulated, check };
    let mut rows = vec![
        row("recovery_attempts", n, sim_att, Check::Info),
        row(
            "session_present_rate",
            live_rate,
            sim_rate,
            Check::of(too_few(n.min(sim_att), "recovery attempts"), rates_agree(live_rate, n, sim_rate, sim_att)),
        ),
        row(
            "strict_agreement",
            strict,
            f64::NAN,
            Check::of(too_few(judged as f64, "judged attempts"), strict >= STRICT_AGREEMENT),
        ),
        row("strict_judged_attempts", judged as f64, f64::NAN, Check::Info),
        row(
            "retained_sessions_mean",
            seen,
            sim_retained,
            Check::of(None, (seen - sim_retained).abs() <= RETAINED_TOLERANCE * sim_retained.max(1.0)),
        ),
        // The broker's own gauge confirms the driver's count at each of its samples. (Its samples
        // fall just before keep-alive sweeps, so a mean of them is biased low.)
        row("sys_gauge_agreement", sys_share, f64::NAN, Check::of(sys_why, sys_share >= SYS_AGREEMENT)),
        row("sys_gauge_samples", sys_samples as f64, f64::NAN, Check::Info),
    ];
    if m.brokers.len() > 1 {
        for (b, broker) in m.brokers.iter().enumerate() {
            let (s, k) = strict_agreement(m.attempts.iter().filter(|a| a.broker == b));
            let check = Check::of(too_few(k as f64, "judged attempts"), s >= STRICT_AGREEMENT);
            rows.push(row(&format!("strict_agreement@{}", broker.addr), s, f64::NAN, check));
            let (share, _, why) = sys_check(m, Some(b));
            rows.push(row(
                &format!("sys_gauge_agreement@{}", broker.addr),
                share,
                f64::NAN,
                Check::of(why, share >= SYS_AGREEMENT),
            ));
        }
    }
    rows.extend([
        row("auto_logouts", m.broker_closed as f64, sim_closed, Check::Info),
        // A session left live by a client back under a new Client Identifier: the broker
        // closes it at its keep-alive timeout, the simulation at the client's new login.
        row("relogin_drops", m.orphans_closed as f64, whole(|x| x.ended[EndReason::Relogin as usize]), Check::Info),
        row("logouts", m.logouts as f64, whole(|x| x.ended[EndReason::Logout as usize]), Check::Info),
        row("fresh_sessions", m.fresh as f64, whole(|x| x.logins_fresh), Check::Info),
        row("broker_failures", m.broker_failures() as f64, f64::NAN, Check::Info),
        row("driver_failures", m.driver_failures as f64, f64::NAN, Check::Info),
        row("reconnect_latency_ms_p50", m.timing.connack.ms(0.5), f64::NAN, Check::Info),
        row("reconnect_latency_ms_p99", m.timing.connack.ms(0.99), f64::NAN, Check::Info),
        row("driver_lateness_ms_p99_ramp", m.timing.ramp.ms(0.99), f64::NAN, Check::Info),
        row("driver_lateness_ms_p50", m.timing.steady.ms(0.5), f64::NAN, Check::Info),
        row("driver_lateness_ms_p99", m.timing.steady.ms(0.99), f64::NAN, Check::Info),
        row("exchanges_per_second", m.packets as f64 / m.wall_seconds.max(1e-9), f64::NAN, Check::Info),
        row("driver_bytes_per_client", m.peak_rss as f64 / f64::from(m.clients.max(1)), f64::NAN, Check::Info),
    ]);
    let phases = phases(m, late_limit_ms);
    let in_guard_band = m.attempts.iter().filter(|a| a.predicted.is_some() && a.margin <= GUARD_BAND).count();
    let unpredicted = m.attempts.iter().filter(|a| a.predicted.is_none()).count();
    let verdict = verdict(m, &rows, &phases);
    Comparison { rows, phases, in_guard_band, unpredicted, verdict }
}

/// One reading, in order: a broker that failed, then a driver that fell behind, then a
/// disagreement, then a check not judged.
pub fn verdict(m: &Measured, rows: &[Row], phases: &[Phase]) -> Verdict {
    let failed: Vec<String> = m
        .brokers
        .iter()
        .filter(|b| b.failures > 0 || b.monitor_lost.is_some())
        .map(|b| {
            let lost = b.monitor_lost.map_or(String::new(), |t| format!(", its $SYS monitor lost at {t:.1} s"));
            format!("{}: {} failed connections or exchanges{lost}", b.addr, b.failures)
        })
        .collect();
    if !failed.is_empty() {
        let first = m.failure_messages.first().map_or(String::new(), |f| format!("; the first: {f}"));
        let stopped = match &m.ending {
            Ending::Aborted(why) => format!("; the run stopped: {why}"),
            _ => String::new(),
        };
        return Verdict::BrokerFailed(format!("{}{first}{stopped}", failed.join("; ")));
    }
    if let Ending::Aborted(why) = &m.ending {
        return Verdict::DriverLimited(why.clone());
    }
    if m.driver_failures > 0 {
        let first = m.failure_messages.first().map_or(String::new(), |f| format!(" (first: {f})"));
        return Verdict::DriverLimited(format!("{} exchanges failed on this machine's side{first}", m.driver_failures));
    }
    let behind: Vec<String> = phases
        .iter()
        .filter(|p| matches!(p.limit, Limit::LoadGenerator(_) | Limit::Machine(_)))
        .map(|p| format!("{}: {} ({})", p.name, p.limit.word(), p.limit.why()))
        .collect();
    if !behind.is_empty() {
        return Verdict::DriverLimited(format!("the driver fell behind its schedule; {}", behind.join("; ")));
    }
    if rows.iter().any(|r| r.check == Check::Disagrees) {
        return Verdict::Disagrees;
    }
    let not: Vec<String> = rows
        .iter()
        .filter_map(|r| match &r.check {
            Check::NotJudged(w) => Some(format!("{}: {w}", r.metric)),
            _ => None,
        })
        .collect();
    if !not.is_empty() {
        return Verdict::NotJudged(not.join("; "));
    }
    Verdict::Agrees
}

#[cfg(test)]
mod tests {
    use super::super::measured::{Attempt, BrokerSeen};
    use super::*;

    fn attempt(present: bool, predicted: Option<bool>, margin: f64) -> Attempt {
        Attempt { client: 0, broker: 0, sent: 0.0, session_present: present, predicted, margin, latency: 0.001 }
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
        assert_eq!(strict_agreement(a.iter()), (2.0 / 3.0, 3));
        assert!(strict_agreement([].iter()).0.is_nan());
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
        assert_eq!(sys_matches(&[(5.0, 1.0)], &seen), (1, 1));
        assert_eq!(sys_matches(&[(5.0, 3.0)], &seen), (0, 1), "3 is the count after the sweep");
        assert_eq!(sys_matches(&[(7.5, 3.0), (7.5, 2.0)], &seen).0, 1, "4 counted: one off matches, two do not");
        assert_eq!(sys_matches(&[(1.0, 0.0)], &seen).0, 1);
        assert_eq!(sys_matches(&[(1.0, f64::NAN), (1.0, 0.0)], &seen).1, 1, "unreadable samples skipped");
        // Within 1% as well as one session: 200 counted, 202 published.
        let many: Vec<_> = (0..200).map(|_| (0.0, 1.0)).collect();
        assert_eq!(sys_matches(&[(0.5, 203.0), (0.5, 204.0)], &many).0, 1);
    }

    #[test]
    fn proportions_agree_within_their_pooled_error() {
        assert!(rates_agree(0.42, 5000.0, 0.43, 5000.0));
        assert!(!rates_agree(0.42, 5000.0, 0.48, 5000.0));
        assert!(rates_agree(1.0, 10.0, 1.0, 10.0), "identical certainties agree");
    }

    /// A broker publishing `samples` gauges `every` seconds apart, each matching the count.
    fn broker(samples: usize, every: f64) -> BrokerSeen {
        BrokerSeen {
            addr: "127.0.0.1:1883".into(),
            retained: (0..samples).map(|i| (1.0 + every * i as f64, 0.0)).collect(),
            refreshes: (0..samples).map(|i| 1.0 + every * i as f64).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_gauge_check_with_too_few_samples_or_a_slow_broker_is_not_judged() {
        let m = |b| Measured { brokers: vec![b], ..Default::default() };
        assert_eq!(sys_check(&m(broker(40, 2.0)), None), (1.0, 40, None));
        let (share, n, why) = sys_check(&m(broker(8, 10.0)), None);
        assert_eq!((share, n), (1.0, 8));
        assert!(why.unwrap().contains("sys_interval 1"), "a 10 s sys_interval is named");
        let (_, _, why) = sys_check(&m(broker(5, 1.0)), None);
        assert!(why.unwrap().contains("5 $SYS samples"));
        let (share, _, why) = sys_check(&m(BrokerSeen::default()), None);
        assert!(share.is_nan() && why.is_some(), "no $SYS tree at all");
    }

    /// The live Mosquitto scenario with 2,000 clients, simulated over 90 s of a run at --scale 60.
    fn simulated() -> (Report, super::super::scale::Scale) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/live_mosquitto.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let p = crate::scenario::parse(&text, path, std::path::Path::new("."), &["clients=2000".into()]).unwrap();
        let k = super::super::scale::Scale::new(60).unwrap();
        let driven = std::time::Duration::from_secs(90);
        let (sim, ()) = crate::run::simulate(super::super::comparison_params(&p, k, driven), ());
        (sim, k)
    }

    #[test]
    fn the_simulated_retained_mean_is_event_based_not_an_average_of_samples() {
        // D1: at --scale 60 with a sample a minute, every sample lands on a whole broker second,
        // when a batch of sessions is expiring; the samples' average reads high.
        let (sim, k) = simulated();
        let m = Measured { wall_seconds: 90.0, brokers: vec![BrokerSeen::default()], ..Default::default() };
        let c = compare(&sim, &m, 20.0);
        let row = c.rows.iter().find(|r| r.metric == "retained_sessions_mean").unwrap();
        let event_based = sim.metric("retained_contexts_mean");
        assert_eq!(row.simulated, event_based);
        assert!(c.rows.iter().all(|r| !r.metric.contains('@')), "one broker: no per-broker rows");
        // A simulated minute is a real second at --scale 60: the samples fall on whole seconds of the run.
        let times: Vec<f64> = simulated_retained(&sim, k).iter().map(|s| s.0).collect();
        assert!(times.len() > 80 && times.iter().enumerate().all(|(i, &t)| t == i as f64), "{times:?}");
        let samples = step_mean(&simulated_retained(&sim, k), 0.0, 90.0);
        assert!(
            (samples / event_based - 1.0).abs() > 0.02,
            "a scenario where the two differ: {samples} vs {event_based}"
        );
    }

    fn rows(checks: &[Check]) -> Vec<Row> {
        checks.iter().map(|c| Row { metric: "x".into(), live: 0.0, simulated: 0.0, check: c.clone() }).collect()
    }

    fn quiet_phases() -> Vec<Phase> {
        phases(&Measured { wall_seconds: 10.0, threads: 2, cores: 2, ..Default::default() }, 20.0)
    }

    #[test]
    fn an_unjudged_check_is_never_agreement_and_a_disagreement_outranks_it() {
        let m = Measured { brokers: vec![broker(40, 2.0)], ..Default::default() };
        let p = quiet_phases();
        assert_eq!(verdict(&m, &rows(&[Check::Agrees, Check::Info]), &p), Verdict::Agrees);
        let v = verdict(&m, &rows(&[Check::Agrees, Check::NotJudged("8 samples".into())]), &p);
        assert!(matches!(&v, Verdict::NotJudged(w) if w.contains("8 samples")), "{v:?}");
        assert!(v.line().starts_with("NOT JUDGED"));
        let v = verdict(&m, &rows(&[Check::Disagrees, Check::NotJudged("few".into())]), &p);
        assert_eq!(v, Verdict::Disagrees);
    }

    #[test]
    fn a_failed_broker_is_named_and_never_a_disagreement() {
        let mut b = broker(40, 2.0);
        b.failures = 300;
        b.monitor_lost = Some(41.5);
        let m = Measured {
            brokers: vec![b],
            failure_messages: vec!["client 7: 127.0.0.1:1883: cannot connect: refused".into()],
            ending: Ending::Aborted("300 connections failed".into()),
            ..Default::default()
        };
        let v = verdict(&m, &rows(&[Check::Disagrees]), &quiet_phases());
        let Verdict::BrokerFailed(w) = &v else { panic!("{v:?}") };
        assert!(w.contains("127.0.0.1:1883: 300 failed") && w.contains("41.5 s") && w.contains("client 7"), "{w}");
        assert!(w.contains("the run stopped: 300 connections failed"), "{w}");
    }

    #[test]
    fn a_driver_that_fell_behind_is_the_verdict_not_the_model() {
        let mut m = Measured { wall_seconds: 100.0, ramp_seconds: 10.0, threads: 2, cores: 2, ..Default::default() };
        m.brokers = vec![broker(40, 2.0)];
        for _ in 0..1000 {
            m.timing.steady.record(11_600_000); // 11.6 s late
        }
        m.driver_cpu_seconds = [5.0, 178.0]; // 1.98 cores of 2 after the ramp
        let p = phases(&m, 20.0);
        assert_eq!(p[0].limit, Limit::Neither, "no action in the ramp");
        assert!(matches!(&p[1].limit, Limit::LoadGenerator(w) if w.contains("1.98 cores")), "{:?}", p[1].limit);
        let v = verdict(&m, &rows(&[Check::Disagrees]), &p);
        assert!(matches!(&v, Verdict::DriverLimited(w) if w.contains("steady")), "{v:?}");
        // The same lateness with the driver idle and the broker busy: the broker.
        m.driver_cpu_seconds = [5.0, 20.0];
        m.brokers[0].cpu_seconds = Some([1.0, 88.0]);
        assert!(matches!(&phases(&m, 20.0)[1].limit, Limit::Broker(w) if w.contains("0.98 of a core")));
        // Idle both, but late: pacing or another process.
        m.brokers[0].cpu_seconds = Some([1.0, 10.0]);
        assert!(matches!(&phases(&m, 20.0)[1].limit, Limit::LoadGenerator(w) if w.contains("pacing")));
        // ... unless the machine's cores were busy (many processes on few cores).
        m.machine_busy = [0.1, 0.8];
        assert!(matches!(&phases(&m, 20.0)[1].limit, Limit::Machine(w) if w.contains("80% busy")));
        m.machine_busy = [0.0, 0.0];
        // Busy together: the machine.
        m.driver_cpu_seconds = [5.0, 120.0];
        m.brokers[0].cpu_seconds = Some([1.0, 60.0]);
        assert!(matches!(&phases(&m, 20.0)[1].limit, Limit::Machine(_)));
        // On time: neither, even busy.
        let mut on_time = Measured { wall_seconds: 100.0, threads: 2, cores: 2, ..Default::default() };
        on_time.timing.steady.record(3_000);
        on_time.driver_cpu_seconds = [0.0, 150.0];
        assert_eq!(phases(&on_time, 20.0)[1].limit, Limit::Neither);
        assert_eq!(phases(&on_time, 20.0)[1].late_p99_ms.round(), 3.0);
        let mut driver_side = Measured { driver_failures: 2, ..Default::default() };
        driver_side.failure_messages.push("client 1: no local port left".into());
        let v = verdict(&driver_side, &[], &quiet_phases());
        assert!(matches!(&v, Verdict::DriverLimited(w) if w.contains("no local port")), "{v:?}");
    }

    #[test]
    fn each_check_limit_and_verdict_reads_as_documented() {
        let checks = [Check::Info, Check::Agrees, Check::Disagrees, Check::NotJudged("few".into())];
        assert_eq!(checks.map(|c| c.word()), ["", "agrees", "DISAGREES", "not judged"]);
        assert_eq!(Check::of(None, true), Check::Agrees);
        assert_eq!(Check::of(None, false), Check::Disagrees);
        assert_eq!(
            Check::of(Some("few".into()), true),
            Check::NotJudged("few".into()),
            "too little is never agreement"
        );
        let limits =
            [Limit::Neither, Limit::LoadGenerator("a".into()), Limit::Machine("b".into()), Limit::Broker("c".into())];
        assert_eq!(limits.clone().map(|l| l.word()), ["neither", "the load generator", "the machine", "the broker"]);
        assert_eq!(limits.map(|l| l.why().to_string()), ["", "a", "b", "c"]);
        assert!(Verdict::Agrees.line().contains("agrees with the broker"));
        assert!(Verdict::Disagrees.line().contains("DISAGREE"));
        assert_eq!(Verdict::NotJudged("x".into()).line(), "NOT JUDGED: x");
        assert!(Verdict::DriverLimited("late".into()).line().starts_with("LOAD GENERATOR LIMITED: late; "));
        assert!(Verdict::BrokerFailed("down".into()).line().starts_with("BROKER FAILED: down; "));
    }

    #[test]
    fn boundaries_of_the_windows_and_the_guard_band() {
        // The level before the first sample counts from the window's start, not from 0.
        assert_eq!(step_mean(&[(2.0, 8.0)], 1.0, 4.0), 8.0);
        // An attempt exactly at the guard band is not judged.
        assert_eq!(strict_agreement([attempt(true, Some(true), GUARD_BAND)].iter()).1, 0);
        // Retained intervals over a window: 0 + 2 + 3 seconds of the 6 of [2, 8].
        let iv = [(0.0, 2.0), (1.0, 4.0), (5.0, 9.0)];
        assert_eq!(intervals_mean(&iv, 2.0, 8.0), 5.0 / 6.0);
        assert_eq!(intervals_mean(&iv, 0.0, 10.0), 0.9);
        assert!(intervals_mean(&iv, 3.0, 3.0).is_nan());
        // A session counts from its close (included) to its return (excluded).
        let seen = [(1.0, 2.0), (1.5, 3.0)];
        assert_eq!([0.5, 1.0, 1.5, 2.0, 3.0].map(|t| seen_at(&seen, t)), [0, 1, 2, 1, 0]);
    }

    #[test]
    fn proportions_on_unequal_runs_agree_only_within_their_error() {
        // 50 of 100 against 120 of 300: pooled 0.425, error 0.0571, so 0.1 apart agrees;
        // 114 of 300 (0.12 apart, error 0.0568) does not.
        assert!(rates_agree(0.5, 100.0, 0.4, 300.0));
        assert!(rates_agree(0.4, 300.0, 0.5, 100.0));
        assert!(!rates_agree(0.5, 100.0, 0.38, 300.0));
        assert!(!rates_agree(0.38, 300.0, 0.5, 100.0));
    }

    #[test]
    fn a_gauge_check_is_judged_at_exactly_its_limits_and_per_broker() {
        let m = |b| Measured { brokers: vec![b], ..Default::default() };
        assert_eq!(sys_check(&m(broker(10, 1.0)), None), (1.0, 10, None), "exactly the samples needed");
        assert_eq!(sys_check(&m(broker(40, MAX_SYS_INTERVAL)), None), (1.0, 40, None), "exactly the slowest refresh");
        let mut few = broker(5, 1.0);
        few.addr = "127.0.0.2:1883".into();
        let two = Measured { brokers: vec![broker(40, 2.0), few], ..Default::default() };
        assert_eq!(sys_check(&two, Some(0)), (1.0, 40, None));
        let (_, n, why) = sys_check(&two, Some(1));
        assert!(n == 5 && why.unwrap().contains("5 $SYS samples"));
        assert_eq!(sys_check(&two, None).1, 45);
    }

    #[test]
    fn who_was_the_limit_at_the_edges() {
        let steady = |driver: f64, broker: f64, machine: f64, late_us: u64, limit_ms: f64| {
            let mut m = Measured { wall_seconds: 100.0, threads: 2, cores: 2, ..Default::default() };
            m.brokers = vec![BrokerSeen { cpu_seconds: Some([0.0, broker * 100.0]), ..Default::default() }];
            m.driver_cpu_seconds = [0.0, driver * 100.0];
            m.machine_busy = [0.0, machine];
            for _ in 0..100 {
                m.timing.steady.record(late_us);
            }
            phases(&m, limit_ms).remove(1)
        };
        // On schedule, nothing but a busy broker is a limit: a busy driver or machine kept up.
        assert_eq!(steady(1.9, 0.1, 0.1, 1_000, 20.0).limit, Limit::Neither, "a busy driver on time");
        assert_eq!(steady(0.1, 0.1, 0.95, 1_000, 20.0).limit, Limit::Neither, "a busy machine, on time");
        let l = steady(0.1, 0.9, 0.1, 1_000, 20.0).limit;
        assert!(matches!(&l, Limit::Broker(w) if w.contains("0.90 of a core") && !w.contains("CONNACK")), "{l:?}");
        // Late at exactly the limit is not behind.
        let at = steady(1.9, 0.1, 0.1, 50_000, 20.0).late_p99_ms;
        assert_eq!(steady(1.9, 0.1, 0.1, 50_000, at).limit, Limit::Neither);
        assert!(matches!(steady(1.9, 0.1, 0.1, 50_000, at - 0.001).limit, Limit::LoadGenerator(_)));
        // Behind, with the driver and broker together under 85% of the cores: pacing, not the machine.
        let l = steady(0.9, 0.5, 0.1, 50_000, 20.0).limit;
        assert!(matches!(&l, Limit::LoadGenerator(w) if w.contains("pacing")), "{l:?}");
        // A phase of no time has no rate of CPU.
        let m = Measured { driver_cpu_seconds: [1.0, 0.0], ..Default::default() };
        assert!(phases(&m, 20.0)[0].driver_cores.is_nan());
    }

    #[test]
    fn a_broker_failure_is_either_failed_connections_or_a_lost_monitor() {
        let judged = rows(&[Check::Agrees]);
        let mut b = broker(40, 2.0);
        b.failures = 1;
        let v = verdict(&Measured { brokers: vec![b], ..Default::default() }, &judged, &quiet_phases());
        assert!(matches!(&v, Verdict::BrokerFailed(w) if w.contains(": 1 failed")), "{v:?}");
        let mut b = broker(40, 2.0);
        b.monitor_lost = Some(3.0);
        let v = verdict(&Measured { brokers: vec![b], ..Default::default() }, &judged, &quiet_phases());
        assert!(matches!(&v, Verdict::BrokerFailed(w) if w.contains("monitor lost at 3.0 s")), "{v:?}");
    }

    #[test]
    fn every_check_of_a_run_is_judged_from_its_own_figures() {
        let (sim, _) = simulated();
        let col = |k| sim.metric(k);
        let sim_att = col("recovery_attempts") + col("session_continuations");
        let sim_rate = (col("recovery_successes") + col("session_continuations")) / sim_att;
        assert!(sim_att >= MIN_ATTEMPTS as f64, "{sim_att} simulated attempts");
        // Broker a: 40 judged attempts; broker b: exactly 30 (the least that is judged); 3 exactly
        // at the guard band and 2 without a prediction. As many present as the simulation's rate.
        let mut attempts = Vec::new();
        for i in 0..75usize {
            let broker = usize::from(i >= 40);
            let (predicted, margin) = match i {
                70..=72 => (Some(true), GUARD_BAND),
                73.. => (None, 9.0),
                _ => (Some(true), 1.0),
            };
            attempts.push(Attempt { broker, predicted, margin, ..attempt(true, None, 0.0) });
        }
        let present = (75.0 * sim_rate).round() as usize;
        for a in attempts.iter_mut().take(75 - present) {
            a.session_present = false;
            a.predicted = a.predicted.map(|_| false);
        }
        let mut b = broker(5, 1.0);
        b.addr = "b:1883".into();
        // Broker a holds as many retained sessions as the simulation's mean, and its gauge says so.
        let retained = sim.metric("retained_contexts_mean");
        let mut a = BrokerSeen { addr: "a:1883".into(), ..broker(40, 2.0) };
        a.retained_seen = vec![(0.0, 90.0); retained.floor() as usize];
        a.retained_seen.push((0.0, 90.0 * retained.fract()));
        a.retained.iter_mut().for_each(|g| g.1 = retained.floor());
        let m = Measured {
            attempts,
            brokers: vec![a, b],
            wall_seconds: 90.0,
            packets: 900,
            peak_rss: 2_000_000,
            clients: 2000,
            ..Default::default()
        };
        let c = compare(&sim, &m, 20.0);
        let row = |name: &str| c.rows.iter().find(|r| r.metric == name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!((row("recovery_attempts").live, row("recovery_attempts").simulated), (75.0, sim_att));
        let rate = row("session_present_rate");
        assert_eq!((rate.live, rate.simulated, &rate.check), (present as f64 / 75.0, sim_rate, &Check::Agrees));
        assert_eq!((row("strict_agreement").live, &row("strict_agreement").check), (1.0, &Check::Agrees));
        assert_eq!(row("strict_judged_attempts").live, 70.0);
        assert_eq!(row("strict_agreement@a:1883").check, Check::Agrees);
        assert_eq!(row("strict_agreement@b:1883").check, Check::Agrees, "30 judged attempts are enough");
        assert_eq!(row("sys_gauge_agreement@a:1883").check, Check::Agrees);
        assert!(matches!(&row("sys_gauge_agreement@b:1883").check, Check::NotJudged(w) if w.contains("5 $SYS")));
        assert_eq!((c.in_guard_band, c.unpredicted), (3, 2));
        assert_eq!(row("exchanges_per_second").live, 10.0);
        assert_eq!(row("driver_bytes_per_client").live, 1000.0);
        assert_eq!(row("retained_sessions_mean").check, Check::Agrees);
        assert!(
            matches!(&c.verdict, Verdict::NotJudged(w) if w.starts_with("sys_gauge_agreement@b:1883")),
            "{:?}",
            c.verdict
        );
        // One of broker b's attempts predicted absent but present (29 of 30 agree): b, and only b, disagrees.
        let mut m = m;
        let k = m.attempts.iter().position(|a| a.broker == 1 && a.predicted == Some(true)).unwrap();
        m.attempts[k].predicted = Some(false);
        let c = compare(&sim, &m, 20.0);
        let row = |name: &str| c.rows.iter().find(|r| r.metric == name).unwrap().check.clone();
        assert_eq!((row("strict_agreement@a:1883"), row("strict_agreement@b:1883")), (Check::Agrees, Check::Disagrees));
        assert_eq!(c.verdict, Verdict::Disagrees);
    }
}
