//! `impsim live --calibrate`: what a retained session and a subscription cost the broker's
//! heap, measured from `$SYS/broker/heap/current` deltas, and written as a `[cost]` table a
//! scenario reads (`[cost] file = ...`), so the simulator's memory figures rest on measured
//! bytes.
//!
//! For each number of subscriptions S: N sessions connect (Clean Start, an expiry interval),
//! subscribe to S topics each, disconnect (the broker retains them), and are then deleted
//! again (Clean Start with no expiry). The heap is read once the broker's `$SYS` tree has
//! been refreshed twice after each step (it is computed every `sys_interval`, about 2 s);
//! its absolute value is never used, only differences within a step, because Mosquitto's heap
//! does not return to its start after sessions are deleted.

use super::codec::{Incoming, Outgoing};
use super::conn::{Conn, Failed, open, subscribe_all};
use super::driver::{Broker, DriveOptions, Shard, Shared};
use super::scale::Scale;
use crate::model::protocol::mqtt5::wire;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tokio::time::sleep;

/// What to measure.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    /// The broker.
    pub broker: Broker,
    /// Sessions per level (more: a smaller share of noise).
    pub sessions: u32,
    /// The numbers of subscriptions per session to measure (at least two different ones).
    pub subscriptions: Vec<u32>,
    /// At most this many CONNECTs waiting for their CONNACK.
    pub max_inflight: usize,
    /// At most this many new connections per second.
    pub connect_rate: f64,
    /// Give up after this much real time.
    pub time_limit: Duration,
}

/// One level's measurement: heap bytes per session with `subscriptions` subscriptions each.
#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    /// Subscriptions per session.
    pub subscriptions: u32,
    /// Sessions measured.
    pub sessions: u32,
    /// Heap per session while connected (session, socket and its buffers).
    pub connected_bytes: f64,
    /// Heap per session once retained without a connection.
    pub retained_bytes: f64,
    /// Heap per session left behind after the sessions were deleted (the allocator's and the
    /// broker's own leftovers; not a cost of keeping them).
    pub leftover_bytes: f64,
}

/// The result: every level and the straight line through them.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// `$SYS/broker/version`, e.g. "mosquitto version 2.0.11".
    pub version: String,
    /// Each level measured.
    pub levels: Vec<Level>,
    /// Heap per retained session with no subscription (the line's intercept), bytes.
    pub per_session: f64,
    /// Heap per subscription of a retained session (the line's slope), bytes.
    pub per_subscription: f64,
}

/// The broker's `$SYS` figures as last published, and how many refreshes have been seen.
struct Sys {
    ticks: u64,
    /// When the last refresh arrived, and the gap before it (the broker's `sys_interval`).
    last_tick: Option<Instant>,
    gap: f64,
    heap: f64,
    disconnected: f64,
    version: String,
}

impl Default for Sys {
    fn default() -> Self {
        Sys { ticks: 0, last_tick: None, gap: 0.0, heap: f64::NAN, disconnected: f64::NAN, version: String::new() }
    }
}

/// How every cost table impsim writes starts (so `--force` replaces only those).
pub const HEADER: &str = "# Measured by `impsim live --calibrate";

const UPTIME: &str = "$SYS/broker/uptime";
const HEAP: &str = "$SYS/broker/heap/current";
const DISCONNECTED: &str = "$SYS/broker/clients/disconnected";
const VERSION: &str = "$SYS/broker/version";

/// Measure the broker's heap per retained session and per subscription.
pub fn calibrate(opts: CalibrateOptions, stop: &'static AtomicBool) -> Result<Calibration, String> {
    let mut levels = opts.subscriptions.clone();
    levels.sort_unstable();
    levels.dedup();
    if levels.len() < 2 || opts.sessions == 0 {
        return Err("--calibrate needs at least one session and two different --subscriptions counts".into());
    }
    let drive = DriveOptions {
        brokers: vec![opts.broker.clone()],
        sources: Vec::new(),
        scale: Scale::new(1)?,
        max_inflight: opts.max_inflight,
        connect_rate: opts.connect_rate,
        time_limit: opts.time_limit,
        threads: 1,
        shard: Shard::WHOLE,
        deadline: Duration::from_secs(10),
        monitor: false,
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    let s = Shared::single(drive, stop);
    let sys = Rc::new(RefCell::new(Sys::default()));
    let result = local.block_on(&rt, async {
        let monitor = tokio::task::spawn_local(watch(s.clone(), sys.clone()));
        let mut out = Vec::new();
        for (i, &subs) in levels.iter().enumerate() {
            let first = 90_000_000 + i as u32 * 1_000_000;
            out.push(level(&s, &sys, first, opts.sessions, subs).await?);
        }
        monitor.abort();
        Ok::<_, String>(out)
    });
    let levels = result?;
    let version = sys.borrow().version.clone();
    let (per_session, per_subscription) =
        line(&levels.iter().map(|l| (f64::from(l.subscriptions), l.retained_bytes)).collect::<Vec<_>>());
    Ok(Calibration { version, levels, per_session, per_subscription })
}

/// A failed exchange as a message.
fn text(f: Failed) -> String {
    match f {
        Failed::Over => "the time limit was reached, or interrupted".into(),
        Failed::Broker(m) | Failed::Driver(m) => m,
    }
}

/// Least-squares line through (x, y) points: (intercept, slope).
pub fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    (my - slope * mx, slope)
}

/// Keep `sys` up to date with the broker's `$SYS` tree.
async fn watch(s: Rc<Shared>, sys: Rc<RefCell<Sys>>) {
    let id = format!("impsim-calibrate-{}", std::process::id());
    let Ok((mut conn, _, _)) = open(&s, 0, None, &id, (true, 600, 0), None).await else { return };
    for (i, topic) in [UPTIME, HEAP, DISCONNECTED, VERSION].into_iter().enumerate() {
        if conn.send(&s, &Outgoing::Subscribe { packet_id: i as u16 + 1, topic }).await.is_err() {
            return;
        }
    }
    while let Ok(Some(p)) = conn.next().await {
        let Incoming::Publish { topic, payload, retained } = p else { continue };
        let text = String::from_utf8_lossy(&payload).trim().to_string();
        let mut x = sys.borrow_mut();
        // Figures are published only when they change, so a retained copy is the current value;
        // only a fresh uptime marks a refresh of the tree.
        match topic.as_str() {
            VERSION => x.version = text,
            DISCONNECTED => x.disconnected = text.parse().unwrap_or(f64::NAN),
            HEAP => x.heap = text.parse().unwrap_or(f64::NAN),
            UPTIME if !retained => {
                let now = Instant::now();
                if let Some(t) = x.last_tick {
                    x.gap = (now - t).as_secs_f64();
                }
                x.last_tick = Some(now);
                x.ticks += 1;
            }
            _ => {}
        }
    }
}

/// Wait until the broker has refreshed its `$SYS` tree twice (so it reflects everything done
/// before this call) and `done` holds; the heap then.
async fn settled(s: &Shared, sys: &RefCell<Sys>, done: impl Fn(&Sys) -> bool) -> Result<f64, String> {
    let from = sys.borrow().ticks;
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        {
            let x = sys.borrow();
            if x.gap > super::compare::MAX_SYS_INTERVAL {
                return Err(format!(
                    "the broker refreshes its $SYS tree every {:.0} s; calibrating needs `sys_interval 1` in its \
                     configuration (see tests/live/broker.sh)",
                    x.gap
                ));
            }
            if x.ticks >= from + 2 && done(&x) && x.heap.is_finite() {
                return Ok(x.heap);
            }
        }
        if s.over() || Instant::now() > give_up {
            return Err(if sys.borrow().ticks == 0 {
                "the broker publishes no $SYS/broker/uptime (is sys_interval 0 in its configuration?)".into()
            } else {
                "the broker's $SYS figures did not reach what was done within 60 s (is another client using the \
                 broker? calibrate against a broker of its own), or the time limit was reached"
                    .into()
            });
        }
        sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until the broker's count of retained sessions holds still for three refreshes (the
/// sessions of an earlier run expiring, say); that count. Another client's churn would be
/// measured as ours: calibrate against a broker of its own.
async fn quiet(s: &Shared, sys: &RefCell<Sys>) -> Result<f64, String> {
    let give_up = Instant::now() + Duration::from_secs(120);
    loop {
        let (tick, count) = {
            let x = sys.borrow();
            (x.ticks, x.disconnected)
        };
        settled(s, sys, |x| x.ticks >= tick + 3).await?;
        if sys.borrow().disconnected == count && count.is_finite() {
            return Ok(count);
        }
        if Instant::now() > give_up {
            return Err("the broker's retained sessions kept changing for 2 minutes: another client is using it; \
                        calibrate against a broker of its own"
                .into());
        }
    }
}

/// One level: `n` sessions (client slots `first`..) with `subs` subscriptions each, connected,
/// retained, then deleted; heap per session at each step.
async fn level(s: &Rc<Shared>, sys: &RefCell<Sys>, first: u32, n: u32, subs: u32) -> Result<Level, String> {
    const EXPIRY: u32 = 3600;
    let before = quiet(s, sys).await?;
    let base = settled(s, sys, |_| true).await?;
    let conns = all(s, first, n, |s, c| async move {
        let (mut conn, _, _) =
            open(&s, 0, None, &wire::client_id(c, 0), (true, 600, EXPIRY), None).await.map_err(text)?;
        subscribe_all(&s, &mut conn, c, subs).await.map_err(text)?;
        Ok(conn)
    })
    .await?;
    let connected = settled(s, sys, |_| true).await?;
    for mut conn in conns {
        conn.send(s, &Outgoing::Disconnect).await.map_err(|e| e.to_string())?;
    }
    let retained = settled(s, sys, |x| x.disconnected >= before + f64::from(n)).await?;
    // Delete them: Clean Start discards each session, expiry 0 drops the new one at DISCONNECT.
    let again = all(s, first, n, |s, c| async move {
        let (conn, _, _) = open(&s, 0, None, &wire::client_id(c, 0), (true, 600, 0), None).await.map_err(text)?;
        Ok(conn)
    })
    .await?;
    for mut conn in again {
        conn.send(s, &Outgoing::Disconnect).await.map_err(|e| e.to_string())?;
    }
    let after = settled(s, sys, |x| x.disconnected <= before).await?;
    let per = |h: f64| (h - base) / f64::from(n);
    Ok(Level {
        subscriptions: subs,
        sessions: n,
        connected_bytes: per(connected),
        retained_bytes: per(retained),
        leftover_bytes: per(after),
    })
}

/// Run `f` for client slots `first..first + n` at once (paced by `connect`), every one's
/// connection back, or the first error.
async fn all<F, Fut>(s: &Rc<Shared>, first: u32, n: u32, f: F) -> Result<Vec<Conn>, String>
where
    F: Fn(Rc<Shared>, u32) -> Fut,
    Fut: std::future::Future<Output = Result<Conn, String>> + 'static,
{
    let tasks: Vec<_> = (first..first + n).map(|c| tokio::task::spawn_local(f(s.clone(), c))).collect();
    let mut conns = Vec::with_capacity(n as usize);
    for t in tasks {
        conns.push(t.await.map_err(|e| e.to_string())??);
    }
    Ok(conns)
}

/// The cost table a scenario reads with `[cost] file = "..."`: a retained session's fixed part
/// and, for every context item that is a subscription under MQTT 5 (presence and notification
/// subscriptions, joined groups), the measured bytes per subscription; services and
/// capabilities have no broker state.
pub fn cost_table(c: &Calibration, broker: &str) -> String {
    let mut s = format!(
        "{HEADER} --broker {broker}` (impsim {}) against {}.\n\
         # Heap per retained session (Session Expiry Interval > 0, no connection), from\n\
         # $SYS/broker/heap/current deltas; use it with `[cost] file = \"<this file>\"`.\n\
         #\n\
         # subscriptions  sessions  connected_bytes  retained_bytes  leftover_bytes (per session)\n",
        env!("CARGO_PKG_VERSION"),
        if c.version.is_empty() { "a broker that did not say its version" } else { &c.version }
    );
    for l in &c.levels {
        s.push_str(&format!(
            "# {:>13}  {:>8}  {:>15.0}  {:>14.0}  {:>14.0}\n",
            l.subscriptions, l.sessions, l.connected_bytes, l.retained_bytes, l.leftover_bytes
        ));
    }
    let (base, per) = (c.per_session.round().max(0.0) as u64, c.per_subscription.round().max(0.0) as u64);
    let worst = c
        .levels
        .iter()
        .map(|l| ((c.per_session + c.per_subscription * f64::from(l.subscriptions)) / l.retained_bytes - 1.0).abs())
        .fold(0.0, f64::max);
    s.push_str(&format!(
        "# Fit: {base} bytes + {per} bytes per subscription (within {:.1}% of every level measured;\n\
         # outside the measured range it is an extrapolation).\n\n[context]\nbase = {base}\nper_service = 0\n\
         per_capability = 0\nper_presence_subscription = {per}\nper_notification_subscription = {per}\n\
         per_joined_group = {per}\n",
        worst * 100.0
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_least_squares_through_the_levels() {
        let (a, b) = line(&[(0.0, 900.0), (5.0, 2700.0), (20.0, 5900.0)]);
        // By hand: mean x 8.333, mean y 3166.7, Sxx 216.67, Sxy 52333.3.
        assert!((b - 241.538).abs() < 0.001, "{b}");
        assert!((a - 1153.846).abs() < 0.001, "{a}");
        assert_eq!(line(&[(0.0, 100.0), (10.0, 300.0)]), (100.0, 20.0));
    }

    #[test]
    fn the_cost_table_is_a_cost_section_a_scenario_reads() {
        let c = Calibration {
            version: "mosquitto version 2.0.11".into(),
            levels: vec![],
            per_session: 912.4,
            per_subscription: 301.6,
        };
        let t: toml::Table = toml::from_str(&cost_table(&c, "127.0.0.1:1883")).unwrap();
        let ctx = t["context"].as_table().unwrap();
        assert_eq!(ctx["base"].as_integer(), Some(912));
        assert_eq!(ctx["per_presence_subscription"].as_integer(), Some(302));
        assert_eq!(ctx["per_joined_group"].as_integer(), Some(302));
        assert_eq!(ctx["per_service"].as_integer(), Some(0));
    }
}
