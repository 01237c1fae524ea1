//! What a run measures: counters, time-weighted gauges and HDR histograms, and the one
//! summary row they make. Column names here are the ones documented in README.md.

use super::context::Gone;
use super::cost::{Primitive, Syntax};
use crate::engine::time::SimTime;
use hdrhistogram::Histogram;

/// A level over time: its peak and its time-weighted mean since `since` (0, or the end of
/// the warm-up).
#[derive(Clone, Debug, Default)]
pub struct Gauge {
    value: u64,
    peak: u64,
    area: u128,
    last: SimTime,
    since: SimTime,
}

impl Gauge {
    #[inline]
    pub(crate) fn set(&mut self, now: SimTime, v: u64) {
        self.area += self.value as u128 * (now - self.last).as_micros() as u128;
        self.last = now;
        self.value = v;
        self.peak = self.peak.max(v);
    }
    /// The current level.
    pub fn value(&self) -> u64 {
        self.value
    }
    /// Forget the past: peak and mean cover only what follows `now` (the warm-up's end).
    pub(crate) fn restart(&mut self, now: SimTime) {
        self.set(now, self.value);
        *self = Gauge { value: self.value, peak: self.value, area: 0, last: now, since: now };
    }
    pub(crate) fn peak(&self) -> u64 {
        self.peak
    }
    /// Integral of the level over [since, end], in value-microseconds.
    pub(crate) fn area(&self, end: SimTime) -> u128 {
        self.area + self.value as u128 * end.saturating_since(self.last).as_micros() as u128
    }
    pub(crate) fn mean(&self, end: SimTime) -> f64 {
        let span = end.saturating_since(self.since).as_micros();
        if span == 0 { self.value as f64 } else { self.area(end) as f64 / span as f64 }
    }
}

/// Why a session ended (S6, S8, S10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EndReason {
    /// The client logged out (S6).
    Logout = 0,
    /// Auto-logout: no transaction reached the SAP within the TTL (S10).
    AutoLogout,
    /// A SAP-initiated Disconnect (S8).
    SapDisconnect,
    /// Dropped by a SAP restart.
    Restart,
    /// The same client logged in afresh while the SAP still held its session.
    Relogin,
}

/// What happened in one part of a run (the warm-up, or the measured window); most are summary.csv columns.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Events the engine processed, stale timers excluded: the simulator's cost (`events`).
    pub events: u64,
    /// Events popped, stale ones included.
    pub popped: u64,
    /// Sessions set up by a fresh login (no Session-ID), first logins and those after a 502 included.
    pub logins_fresh: u64,
    /// First logins of a client identity: nothing to restore (`logins_initial`).
    pub logins_initial: u64,
    /// Fresh logins that followed a failed recovery, at most one per 502 (`logins_after_502`).
    pub logins_after_502: u64,
    pub(crate) logins_after_version_discovery: u64,
    pub(crate) logins_denied: u64,
    /// Recovery logins answered with the old session restored (`recovery_successes`).
    pub recovery_successes: u64,
    /// 502s by reason, indexed by why the context was gone (the `fail_*` columns).
    pub fail: [u64; Gone::COUNT],
    pub(crate) sessions_recovered: u64,
    /// Returns that found the session alive: a KeepAlive probe answered 200, or a recovery login
    /// that found its session still live (`session_continuations`).
    pub continuations: u64,
    /// Sessions ended, indexed by `EndReason`.
    pub ended: [u64; 5],
    pub(crate) contexts_created: u64,
    pub(crate) gone: [u64; Gone::COUNT],
    pub(crate) ttl_reduced: u64,
    pub(crate) transport_breaks: u64,
    pub(crate) device_offs: u64,
    pub(crate) retries: u64,
    pub(crate) abandoned: u64,
    pub(crate) client_id_changes: u64,
    pub(crate) resubscriptions: u64,
    pub(crate) recovery_bytes_saved: u64,
    pub(crate) recovery_transactions_saved: u64,
    /// Transactions per primitive, indexed by `Primitive` (`tx_<primitive>`).
    pub tx: [u64; Primitive::COUNT],
    /// Bytes per primitive, request plus response, indexed by `Primitive` (`bytes_<primitive>`).
    pub tx_bytes: [u64; Primitive::COUNT],
    pub(crate) syntax_bytes: [u64; 3],
    pub(crate) inband: u64,
    pub(crate) outband: u64,
    pub(crate) dropped: u64,
    pub(crate) restarts: u64,
}

impl Counters {
    pub(crate) fn recovery_attempts(&self) -> u64 {
        self.recovery_successes + self.fail.iter().sum::<u64>()
    }
    pub(crate) fn recovery_rate(&self) -> f64 {
        let a = self.recovery_attempts();
        if a == 0 { f64::NAN } else { self.recovery_successes as f64 / a as f64 }
    }
    #[inline]
    pub(crate) fn transaction(&mut self, p: Primitive, s: Syntax, bytes: u32, inband: bool) {
        self.tx[p as usize] += 1;
        self.tx_bytes[p as usize] += bytes as u64;
        self.syntax_bytes[s as usize] += bytes as u64;
        if inband {
            self.inband += 1;
        } else {
            self.outband += 1;
        }
    }
}

/// One timeseries.csv row.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// When the row was taken (microseconds): the state just before the events of that instant.
    pub time: SimTime,
    /// Sessions live at that time.
    pub active_sessions: u64,
    pub(crate) retained_contexts: u64,
    pub(crate) retained_bytes: u64,
    pub(crate) recovery_attempts: u64,
    pub(crate) recovery_successes: u64,
}

/// Everything a run measures: counters, time-weighted gauges, restore-time histograms, the timeseries.
pub struct Metrics {
    /// What happened in the measured window [warmup, end]; `events` and `popped` count the
    /// whole run (they are the simulator's cost, not the model's).
    pub c: Counters,
    /// What happened during the warm-up, kept for the conservation laws (`Census`).
    pub warmup: Counters,
    /// Start of the measured window.
    pub(crate) since: SimTime,
    pub(crate) active: Gauge,
    pub(crate) active_bytes: Gauge,
    pub(crate) retained: Gauge,
    /// Modeled bytes of the retained contexts: peak and time-weighted mean.
    pub retained_bytes: Gauge,
    /// Time to restore a full context after the client came back, in microseconds.
    pub(crate) restore_recovered: Histogram<u64>,
    pub(crate) restore_fresh: Histogram<u64>,
    /// The timeseries.csv rows, one per `sample_every` from time 0, warm-up included.
    pub samples: Vec<Sample>,
}

impl Default for Metrics {
    fn default() -> Self {
        let h = || {
            Histogram::<u64>::new_with_bounds(1, crate::engine::time::MAX_DURATION.as_micros(), 3)
                .expect("valid histogram bounds")
        };
        Metrics {
            c: Counters::default(),
            warmup: Counters::default(),
            since: SimTime::ZERO,
            active: Gauge::default(),
            active_bytes: Gauge::default(),
            retained: Gauge::default(),
            retained_bytes: Gauge::default(),
            restore_recovered: h(),
            restore_fresh: h(),
            samples: Vec::new(),
        }
    }
}

/// A value in the summary: integers print exactly, reals with fixed precision so the
/// bytes are the same on every machine.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// An integer, written exactly.
    Int(u64),
    /// A real, written with 6 decimals; NaN is written as an empty cell.
    Real(f64),
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Real(v) if v.is_nan() => f.write_str(""),
            // Values that round to zero print as 0, never as "-0.000000".
            // (-5e-7 itself rounds to "-0.000000", so it is included.)
            Cell::Real(v) if v.abs() <= 5e-7 => f.write_str("0.000000"),
            Cell::Real(v) => write!(f, "{v:.6}"),
        }
    }
}

impl Cell {
    pub(crate) fn as_f64(&self) -> f64 {
        match *self {
            Cell::Int(v) => v as f64,
            Cell::Real(v) => v,
        }
    }
}

fn ms(h: &Histogram<u64>, q: f64) -> Cell {
    if h.is_empty() { Cell::Real(f64::NAN) } else { Cell::Real(h.value_at_quantile(q) as f64 / 1000.0) }
}

impl Metrics {
    /// The warm-up ends at `now`: from here on every counter, gauge and histogram starts again.
    pub(crate) fn begin_measuring(&mut self, now: SimTime) {
        self.warmup = std::mem::take(&mut self.c);
        (self.c.events, self.c.popped) = (self.warmup.events, self.warmup.popped);
        for g in [&mut self.active, &mut self.active_bytes, &mut self.retained, &mut self.retained_bytes] {
            g.restart(now);
        }
        self.restore_recovered.reset();
        self.restore_fresh.reset();
        self.since = now;
    }

    /// A count over the whole run: the warm-up's and the measured window's together.
    pub(crate) fn whole_run(&self, count: impl Fn(&Counters) -> u64) -> u64 {
        count(&self.warmup) + count(&self.c)
    }

    /// Recovery attempts and successes over the whole run (warm-up included), for the timeseries.
    pub(crate) fn recoveries_so_far(&self) -> (u64, u64) {
        (self.whole_run(Counters::recovery_attempts), self.whole_run(|c| c.recovery_successes))
    }

    /// The summary row: (column, value) in a fixed order: the columns the spec requires, then
    /// the session and context details, the traffic, and the restore times.
    pub(crate) fn summary(&self, seed: u64, clients: u32, end: SimTime) -> Vec<(String, Cell)> {
        let mut row: Vec<(String, Cell)> = Vec::with_capacity(96);
        let total_tx: u64 = self.c.tx.iter().sum();
        self.required_columns(&mut row, seed, clients, end, total_tx);
        self.detail_columns(&mut row, end);
        self.traffic_columns(&mut row, total_tx);
        self.restore_columns(&mut row);
        row
    }

    fn required_columns(&self, row: &mut Vec<(String, Cell)>, seed: u64, clients: u32, end: SimTime, total_tx: u64) {
        let c = &self.c;
        let hours = end.as_micros() as f64 / 3.6e9;
        let warmup_hours = self.since.as_micros() as f64 / 3.6e9;
        let mut put = |k: &str, v: Cell| row.push((k.to_string(), v));
        let total_bytes: u64 = c.tx_bytes.iter().sum();
        put("seed", Cell::Int(seed));
        put("clients", Cell::Int(clients as u64));
        put("sim_hours", Cell::Real(hours));
        put("warmup_hours", Cell::Real(warmup_hours));
        put("events", Cell::Int(c.events));
        put("logins_fresh", Cell::Int(c.logins_fresh));
        put("logins_recovery", Cell::Int(c.recovery_successes));
        put("recovery_attempts", Cell::Int(c.recovery_attempts()));
        put("recovery_successes", Cell::Int(c.recovery_successes));
        put("recovery_success_rate", Cell::Real(c.recovery_rate()));
        for (name, g) in [
            ("fail_expired", Gone::Expired),
            ("fail_evicted", Gone::Evicted),
            ("fail_not_stored", Gone::NotStored),
            ("fail_client_changed", Gone::ClientChanged),
            ("fail_restart", Gone::Restart),
            ("fail_replaced", Gone::Replaced),
            ("fail_unknown", Gone::Unknown),
        ] {
            put(name, Cell::Int(c.fail[g as usize]));
        }
        put("auto_logouts", Cell::Int(c.ended[EndReason::AutoLogout as usize]));
        put("sap_disconnects", Cell::Int(c.ended[EndReason::SapDisconnect as usize]));
        put("active_sessions_peak", Cell::Int(self.active.peak()));
        put("retained_contexts_peak", Cell::Int(self.retained.peak()));
        put("retained_contexts_mean", Cell::Real(self.retained.mean(end)));
        put("retained_bytes_peak", Cell::Int(self.retained_bytes.peak()));
        put("retained_bytes_mean", Cell::Real(self.retained_bytes.mean(end)));
        put("transactions", Cell::Int(total_tx));
        put("bytes_total", Cell::Int(total_bytes));
    }

    fn detail_columns(&self, row: &mut Vec<(String, Cell)>, end: SimTime) {
        let c = &self.c;
        let mut put = |k: &str, v: Cell| row.push((k.to_string(), v));
        // Beyond the required columns: what a user needs to read the run.
        put("logins_initial", Cell::Int(c.logins_initial));
        put("logins_after_502", Cell::Int(c.logins_after_502));
        put("logins_after_version_discovery", Cell::Int(c.logins_after_version_discovery));
        put("logins_denied", Cell::Int(c.logins_denied));
        put("session_continuations", Cell::Int(c.continuations));
        put("logouts", Cell::Int(c.ended[EndReason::Logout as usize]));
        put("restart_drops", Cell::Int(c.ended[EndReason::Restart as usize]));
        put("relogin_drops", Cell::Int(c.ended[EndReason::Relogin as usize]));
        put("restarts", Cell::Int(c.restarts));
        put("transport_breaks", Cell::Int(c.transport_breaks));
        put("device_offs", Cell::Int(c.device_offs));
        put("client_id_changes", Cell::Int(c.client_id_changes));
        put("abandoned", Cell::Int(c.abandoned));
        put("ttl_reduced", Cell::Int(c.ttl_reduced));
        put("retries", Cell::Int(c.retries));
        put("dropped_requests", Cell::Int(c.dropped));
        put("contexts_created", Cell::Int(c.contexts_created));
        put("contexts_expired", Cell::Int(c.gone[Gone::Expired as usize]));
        put("contexts_evicted", Cell::Int(c.gone[Gone::Evicted as usize]));
        put("contexts_not_stored", Cell::Int(c.gone[Gone::NotStored as usize]));
        put("contexts_lost_restart", Cell::Int(c.gone[Gone::Restart as usize]));
        put("contexts_replaced", Cell::Int(c.gone[Gone::Replaced as usize]));
        put("active_sessions_mean", Cell::Real(self.active.mean(end)));
        put("active_bytes_peak", Cell::Int(self.active_bytes.peak()));
        put("active_bytes_mean", Cell::Real(self.active_bytes.mean(end)));
        put("retained_byte_hours", Cell::Real(self.retained_bytes.area(end) as f64 / 3.6e9));
        put("resubscriptions", Cell::Int(c.resubscriptions));
        put("recovery_bytes_saved", Cell::Int(c.recovery_bytes_saved));
        put("recovery_transactions_saved", Cell::Int(c.recovery_transactions_saved));
        put("inband_transactions", Cell::Int(c.inband));
        put("outband_transactions", Cell::Int(c.outband));
    }

    fn traffic_columns(&self, row: &mut Vec<(String, Cell)>, total_tx: u64) {
        let c = &self.c;
        let mut put = |k: &str, v: Cell| row.push((k.to_string(), v));
        put(
            "keepalive_share",
            Cell::Real(if total_tx == 0 {
                f64::NAN
            } else {
                c.tx[Primitive::KeepAlive as usize] as f64 / total_tx as f64
            }),
        );
        for p in Primitive::ALL {
            put(&format!("tx_{}", p.key()), Cell::Int(c.tx[p as usize]));
        }
        for p in Primitive::ALL {
            put(&format!("bytes_{}", p.key()), Cell::Int(c.tx_bytes[p as usize]));
        }
        for s in Syntax::ALL {
            put(&format!("bytes_{}", s.name()), Cell::Int(c.syntax_bytes[s as usize]));
        }
    }

    fn restore_columns(&self, row: &mut Vec<(String, Cell)>) {
        let mut put = |k: &str, v: Cell| row.push((k.to_string(), v));
        for (name, h) in [("recovered", &self.restore_recovered), ("fresh", &self.restore_fresh)] {
            put(&format!("restore_{name}_count"), Cell::Int(h.len()));
            for (q, label) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p999")] {
                put(&format!("restore_{name}_ms_{label}"), ms(h, q));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instant `us` microseconds after the start.
    fn t(us: u64) -> SimTime {
        SimTime::from_micros(us)
    }

    #[test]
    fn gauge_mean_is_time_weighted() {
        let mut g = Gauge::default();
        g.set(t(0), 10);
        g.set(t(100), 30);
        g.set(t(300), 0);
        // 10 for 100us, 30 for 200us, 0 for 100us.
        assert_eq!(g.area(t(400)), 1000 + 6000);
        assert!((g.mean(t(400)) - 17.5).abs() < 1e-12);
        assert_eq!(g.peak(), 30);
    }

    #[test]
    fn a_restarted_gauge_forgets_the_warm_up() {
        let mut g = Gauge::default();
        g.set(t(0), 100); // a start-up peak
        g.set(t(50), 20);
        g.restart(t(100));
        assert_eq!(g.peak(), 20, "the peak before the restart is forgotten");
        assert_eq!(g.mean(t(100)), 20.0, "an empty window: the current level");
        g.set(t(200), 40);
        // 20 for 100us then 40 for 200us, over [100, 400].
        assert_eq!(g.area(t(400)), 2000 + 8000);
        assert!((g.mean(t(400)) - 10_000.0 / 300.0).abs() < 1e-9);
        assert_eq!(g.peak(), 40);
    }

    fn column(row: &[(String, Cell)], name: &str) -> Cell {
        row.iter().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no column {name}")).1.clone()
    }

    #[test]
    fn the_summary_derives_hours_shares_and_byte_hours_from_what_was_counted() {
        let hour = 3_600_000_000;
        let mut m = Metrics::default();
        m.c.transaction(Primitive::KeepAlive, Syntax::Wbxml, 120, true);
        m.c.transaction(Primitive::KeepAlive, Syntax::Wbxml, 120, true);
        m.c.transaction(Primitive::Login, Syntax::Xml, 1300, false);
        m.c.transaction(Primitive::Activity, Syntax::Pts, 560, true);
        m.c.recovery_successes = 3;
        m.c.fail[Gone::Expired as usize] = 1;
        m.retained_bytes.set(t(0), 1_000);
        m.retained_bytes.set(t(hour), 3_000);
        m.since = t(hour / 2);
        let row = m.summary(9, 4, t(2 * hour));
        let int = |name: &str| match column(&row, name) {
            Cell::Int(v) => v,
            other => panic!("{name} is {other:?}"),
        };
        let real = |name: &str| column(&row, name).as_f64();
        assert_eq!((int("seed"), int("clients")), (9, 4));
        assert_eq!(real("sim_hours"), 2.0);
        assert_eq!(real("warmup_hours"), 0.5);
        // 1000 bytes for an hour, then 3000 for an hour.
        assert_eq!(real("retained_byte_hours"), 4_000.0);
        assert_eq!(int("retained_bytes_peak"), 3_000);
        assert_eq!(real("keepalive_share"), 0.5);
        assert_eq!((int("transactions"), int("bytes_total")), (4, 2_100));
        assert_eq!((int("inband_transactions"), int("outband_transactions")), (3, 1));
        assert_eq!((int("tx_keepalive"), int("bytes_keepalive")), (2, 240));
        assert_eq!((int("tx_login"), int("bytes_login")), (1, 1_300));
        assert_eq!((int("bytes_xml"), int("bytes_wbxml"), int("bytes_pts")), (1_300, 240, 560));
        assert_eq!((int("recovery_attempts"), int("recovery_successes"), int("fail_expired")), (4, 3, 1));
        assert_eq!(real("recovery_success_rate"), 0.75);
        // Nothing happened: the shares are undefined (an empty cell), not 0.
        let row = Metrics::default().summary(1, 1, t(hour));
        assert!(column(&row, "keepalive_share").as_f64().is_nan());
        assert!(column(&row, "recovery_success_rate").as_f64().is_nan());
        assert!(column(&row, "restore_fresh_ms_p50").as_f64().is_nan());
    }

    #[test]
    fn cells_print_exactly_and_the_same_everywhere() {
        assert_eq!(Cell::Int(18_446_744_073_709_551_615).to_string(), "18446744073709551615");
        assert_eq!(Cell::Real(1.5).to_string(), "1.500000");
        assert_eq!(Cell::Real(-0.25).to_string(), "-0.250000");
        assert_eq!(Cell::Real(2.0 / 3.0).to_string(), "0.666667");
        assert_eq!(Cell::Real(f64::NAN).to_string(), "", "undefined is an empty cell");
        assert_eq!(Cell::Real(-1e-9).to_string(), "0.000000", "never -0.000000");
        assert_eq!(Cell::Real(-0.0).to_string(), "0.000000");
        assert_eq!(Cell::Real(-5e-7).to_string(), "0.000000", "the boundary rounds to zero too");
        assert_eq!(Cell::Real(-6e-7).to_string(), "-0.000001");
        assert_eq!(Cell::Real(6e-7).to_string(), "0.000001");
        assert_eq!((Cell::Int(7).as_f64(), Cell::Real(-2.5).as_f64()), (7.0, -2.5));
    }

    #[test]
    fn the_timeseries_counts_recoveries_over_the_whole_run() {
        let mut m = Metrics::default();
        m.c.recovery_successes = 2;
        m.c.fail[Gone::Evicted as usize] = 1;
        m.begin_measuring(t(10));
        assert_eq!(m.c.recovery_attempts(), 0, "the window starts empty");
        m.c.recovery_successes = 5;
        m.c.fail[Gone::Expired as usize] = 4;
        assert_eq!(m.recoveries_so_far(), (3 + 9, 2 + 5));
    }
}
