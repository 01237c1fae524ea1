//! What a live run measured: every recovery attempt with the broker's answer and the rule's
//! prediction, the counts the simulation also gives, the brokers' own `$SYS` figures, how
//! late the driver was against its schedule and what it spent, and every failure by whose it
//! was. One per driver thread during the run, joined into one at its end.

use hdrhistogram::Histogram;

/// One CONNECT with Clean Start = 0 for an identifier that had a session: a recovery attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// The client slot.
    pub client: u32,
    /// The broker it went to (index into the run's brokers).
    pub broker: usize,
    /// Seconds since the run's start at which the CONNECT was sent.
    pub sent: f64,
    /// The broker's answer: the session was there.
    pub session_present: bool,
    /// What the broker's rule predicts from the times the driver saw (None: the driver cannot
    /// tell, e.g. it never saw the old connection end).
    pub predicted: Option<bool>,
    /// Seconds between the CONNECT and the nearest rule boundary the prediction rests on
    /// (the guard band excludes attempts too close to call).
    pub margin: f64,
    /// Seconds from the CONNECT to its CONNACK.
    pub latency: f64,
}

/// A histogram of microseconds (1 us to an hour, 3 significant digits).
#[derive(Clone, Debug)]
pub struct Micros(pub Histogram<u64>);

impl Default for Micros {
    fn default() -> Self {
        Micros(Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"))
    }
}

impl Micros {
    /// Record one value (clamped into the histogram's range).
    pub fn record(&mut self, us: u64) {
        self.0.saturating_record(us.max(1));
    }
    /// The q-quantile in milliseconds, NaN when empty.
    pub fn ms(&self, q: f64) -> f64 {
        if self.0.is_empty() { f64::NAN } else { self.0.value_at_quantile(q) as f64 / 1e3 }
    }
    /// How many values.
    pub fn len(&self) -> u64 {
        self.0.len()
    }
    /// No value yet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn absorb(&mut self, o: &Micros) {
        let _ = self.0.add(&o.0);
    }
}

/// The driver's timing: how late each scheduled action went out, during the ramp (until the
/// last client's first connection was due) and after it, and how long the broker took to
/// answer CONNECT.
#[derive(Clone, Debug, Default)]
pub struct Timing {
    /// Lateness of actions due during the ramp, microseconds (connects include their pacing).
    pub ramp: Micros,
    /// Lateness of actions due after the ramp.
    pub steady: Micros,
    /// CONNECT to CONNACK, microseconds.
    pub connack: Micros,
}

/// One broker as the run saw it.
#[derive(Clone, Debug, Default)]
pub struct BrokerSeen {
    /// HOST:PORT.
    pub addr: String,
    /// `$SYS/broker/clients/disconnected` (retained sessions) over time: (seconds since the
    /// start, value).
    pub retained: Vec<(f64, f64)>,
    /// `$SYS/broker/clients/connected` over time.
    pub connected: Vec<(f64, f64)>,
    /// `$SYS/broker/heap/current` over time, bytes.
    pub heap: Vec<(f64, f64)>,
    /// When the broker refreshed its `$SYS` tree (`$SYS/broker/uptime`), seconds since the start.
    pub refreshes: Vec<f64>,
    /// Sessions without a connection as the driver saw them: (from, to) seconds since the
    /// start, each from its connection's end to its client's return or its expiry.
    pub retained_seen: Vec<(f64, f64)>,
    /// Connections to it that failed (refused, reset, closed, no answer in time).
    pub failures: u64,
    /// The `$SYS` monitor lost its connection at this time (the broker died or closed it).
    pub monitor_lost: Option<f64>,
    /// The broker process's CPU seconds during the ramp and after it (when it runs here and
    /// its process could be found).
    pub cpu_seconds: Option<[f64; 2]>,
}

impl BrokerSeen {
    /// The median time between the broker's `$SYS` refreshes (its `sys_interval`, as seen).
    pub fn refresh_interval(&self) -> Option<f64> {
        let mut gaps: Vec<f64> = self.refreshes.windows(2).map(|w| w[1] - w[0]).collect();
        if gaps.is_empty() {
            return None;
        }
        gaps.sort_by(f64::total_cmp);
        Some(gaps[gaps.len() / 2])
    }
}

/// How the run ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Ending {
    /// The scenario's (compressed) end.
    #[default]
    Finished,
    /// `--time-limit` came first.
    TimeLimit,
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// Stopped early: a broker failed, or the driver could not go on.
    Aborted(String),
}

/// What a live run measured.
#[derive(Debug, Default)]
pub struct Measured {
    /// Every recovery attempt, in the order (client, time) for the same bytes on any number of
    /// threads.
    pub attempts: Vec<Attempt>,
    /// Fresh sessions (Clean Start = 1, or a new Client Identifier).
    pub fresh: u64,
    /// Connections the broker closed on a silent client (its keep-alive timeout).
    pub broker_closed: u64,
    /// Of those, the ones closed after their client had come back under a new Client
    /// Identifier (S17) or as a replacement client: left live, never taken over. The
    /// simulation ends such a session at its client's new login (`relogin_drops`).
    pub orphans_closed: u64,
    /// DISCONNECTs the clients sent (the user logged out).
    pub logouts: u64,
    /// TCP connections the driver began to open (monitors included).
    pub connects: u64,
    /// Packets sent and their bytes.
    pub packets: u64,
    /// See `packets`.
    pub bytes: u64,
    /// How late the driver was, and the broker's CONNACK times.
    pub timing: Timing,
    /// Each broker.
    pub brokers: Vec<BrokerSeen>,
    /// Failures that were this machine's limit (no port, no descriptor, a keep-alive missed
    /// because the driver was late).
    pub driver_failures: u64,
    /// The first few failures of either kind, as messages.
    pub failure_messages: Vec<String>,
    /// Real seconds driven: from the start to the end, the time limit or the stop.
    pub wall_seconds: f64,
    /// Real seconds of the ramp (until the last client's first connection was due).
    pub ramp_seconds: f64,
    /// The start, in wall-clock seconds since the epoch (to align shards).
    pub start_epoch: f64,
    /// The driver process's CPU seconds during the ramp and after it.
    pub driver_cpu_seconds: [f64; 2],
    /// The share of this machine's cores busy (every process) during the ramp and after it.
    pub machine_busy: [f64; 2],
    /// Threads that drove clients, and the machine's cores.
    pub threads: usize,
    /// See `threads`.
    pub cores: usize,
    /// Virtual clients this process drove.
    pub clients: u32,
    /// The driver's peak resident memory, bytes (0 when unknown).
    pub peak_rss: u64,
    /// How the run ended.
    pub ending: Ending,
}

/// Failure messages kept for the report (the count is kept whole).
pub const FAILURES_SHOWN: usize = 20;

impl Measured {
    /// Every broker failure, on every broker.
    pub fn broker_failures(&self) -> u64 {
        self.brokers.iter().map(|b| b.failures).sum()
    }

    /// Fold `o` (another thread's share of the same run) into this one.
    pub fn absorb(&mut self, o: Measured) {
        self.attempts.extend(o.attempts);
        self.fresh += o.fresh;
        self.broker_closed += o.broker_closed;
        self.orphans_closed += o.orphans_closed;
        self.logouts += o.logouts;
        self.packets += o.packets;
        self.connects += o.connects;
        self.bytes += o.bytes;
        self.timing.ramp.absorb(&o.timing.ramp);
        self.timing.steady.absorb(&o.timing.steady);
        self.timing.connack.absorb(&o.timing.connack);
        if self.brokers.len() < o.brokers.len() {
            self.brokers.resize_with(o.brokers.len(), BrokerSeen::default);
        }
        for (mine, theirs) in self.brokers.iter_mut().zip(o.brokers) {
            mine.retained.extend(theirs.retained);
            mine.connected.extend(theirs.connected);
            mine.heap.extend(theirs.heap);
            mine.refreshes.extend(theirs.refreshes);
            mine.retained_seen.extend(theirs.retained_seen);
            mine.failures += theirs.failures;
            mine.monitor_lost = match (mine.monitor_lost, theirs.monitor_lost) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if mine.addr.is_empty() {
                mine.addr = theirs.addr;
            }
        }
        self.driver_failures += o.driver_failures;
        for f in o.failure_messages {
            if self.failure_messages.len() < FAILURES_SHOWN {
                self.failure_messages.push(f);
            }
        }
        self.clients += o.clients;
    }

    /// Put what several threads gathered in one order, whatever the thread count.
    pub fn sort(&mut self) {
        self.attempts.sort_by(|a, b| a.client.cmp(&b.client).then(a.sent.total_cmp(&b.sent)));
        for b in &mut self.brokers {
            for v in [&mut b.retained, &mut b.connected, &mut b.heap] {
                v.sort_by(|x, y| x.0.total_cmp(&y.0));
            }
            b.refreshes.sort_by(f64::total_cmp);
            b.retained_seen.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_shares_add_up_and_sort_into_one_order() {
        let attempt = |client, sent| Attempt {
            client,
            broker: 0,
            sent,
            session_present: true,
            predicted: Some(true),
            margin: 1.0,
            latency: 0.001,
        };
        let part = |client: u32, failures: u64| {
            let mut m = Measured {
                attempts: vec![attempt(client, 2.0), attempt(client, 1.0)],
                fresh: 1,
                packets: 10,
                driver_failures: 1,
                clients: 1,
                brokers: vec![BrokerSeen {
                    failures,
                    retained_seen: vec![(f64::from(client), 9.0)],
                    ..Default::default()
                }],
                ..Default::default()
            };
            m.timing.steady.record(1_000 * u64::from(client + 1));
            m.failure_messages = (0..15).map(|i| format!("{client}-{i}")).collect();
            m
        };
        let mut m = part(3, 2);
        m.absorb(part(1, 5));
        m.sort();
        assert_eq!(
            m.attempts.iter().map(|a| (a.client, a.sent)).collect::<Vec<_>>(),
            [(1, 1.0), (1, 2.0), (3, 1.0), (3, 2.0)]
        );
        assert_eq!((m.fresh, m.packets, m.driver_failures, m.clients, m.broker_failures()), (2, 20, 2, 2, 7));
        assert_eq!(m.brokers[0].retained_seen, [(1.0, 9.0), (3.0, 9.0)]);
        assert_eq!(m.timing.steady.len(), 2);
        assert!((m.timing.steady.ms(1.0) - 4.0).abs() < 0.01);
        assert_eq!(m.failure_messages.len(), FAILURES_SHOWN, "messages are capped, counts are not");
    }

    #[test]
    fn the_refresh_interval_is_the_median_gap() {
        let b = BrokerSeen { refreshes: vec![0.0, 2.0, 4.1, 14.0], ..Default::default() };
        assert!((b.refresh_interval().unwrap() - 2.1).abs() < 1e-9);
        assert_eq!(BrokerSeen::default().refresh_interval(), None);
        assert!(Micros::default().ms(0.5).is_nan());
    }
}
