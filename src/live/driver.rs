//! The virtual clients against real brokers: one task per client on every core (one
//! single-threaded runtime per thread, clients partitioned by slot, so a run's users and what
//! they do are the same on any number of threads), the user's behaviour replayed from the
//! simulation's own draws (`model::behaviour`), the MQTT reactions closed-loop (Session Present
//! = 0 leads to re-subscribing), every recovery attempt recorded with the times the driver
//! saw, a `$SYS` monitor per broker, and the driver's own lateness and CPU measured.

use super::capacity;
use super::codec::{Incoming, Outgoing};
use super::conn::{Failed, Held, HeldConn, open};
use super::measured::{Attempt, BrokerSeen, Ending, FAILURES_SHOWN, Measured};
use super::scale::Scale;
use crate::model::Params;
use crate::model::behaviour::ClientDraws;
use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::time::{sleep, sleep_until};

/// One broker the run loads.
#[derive(Clone, Debug, PartialEq)]
pub struct Broker {
    /// Its address.
    pub addr: SocketAddr,
    /// As the user wrote it.
    pub name: String,
}

/// The slice of the virtual users one process drives, written `I/N` with 1 <= I <= N as
/// `impsim run --shard` and a Slurm array's task ids count: slots `c` with `c mod N = I - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0 (shown from 1).
    pub index: u32,
    /// Shards in all.
    pub count: u32,
}

impl Shard {
    /// The whole population in one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Read "I/N" (1 <= I <= N).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s}: write I/N with 1 <= I <= N, e.g. 1/4 (as a Slurm array's task id)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, count) = (i.trim().parse::<u32>().map_err(|_| bad())?, n.trim().parse::<u32>().map_err(|_| bad())?);
        if count == 0 || i == 0 || i > count {
            return Err(bad());
        }
        Ok(Shard { index: i - 1, count })
    }
    /// Whether client slot `c` is this shard's.
    pub fn has(self, c: u32) -> bool {
        c % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// How the driver loads the brokers.
#[derive(Clone, Debug)]
pub struct DriveOptions {
    /// The brokers; each client goes to one by its Client Identifier (`capacity::broker_of`).
    pub brokers: Vec<Broker>,
    /// Source addresses connections spread over (by client slot); empty: the kernel's choice.
    pub sources: Vec<IpAddr>,
    /// Time compression.
    pub scale: Scale,
    /// At most this many CONNECTs waiting for their CONNACK (Mosquitto's listen backlog is 100).
    pub max_inflight: usize,
    /// At most this many new connections per second.
    pub connect_rate: f64,
    /// Stop after this much real time even if the scenario runs longer.
    pub time_limit: Duration,
    /// Threads that drive clients.
    pub threads: usize,
    /// The slice of the users this process drives.
    pub shard: Shard,
    /// How long the broker has to answer (connect, CONNACK, SUBACK, PINGRESP).
    pub deadline: Duration,
    /// Watch each broker's `$SYS` figures (one shard of a sharded run does).
    pub monitor: bool,
}

/// What every thread of one run shares.
pub(super) struct Run {
    pub(super) opts: DriveOptions,
    pub(super) start: Instant,
    pub(super) end: Instant,
    /// The last client's first connection is due by then.
    pub(super) ramp_end: Instant,
    /// Virtual clients this process drives.
    clients: u32,
    stop: &'static AtomicBool,
    abort: AtomicBool,
    abort_why: Mutex<Option<String>>,
    next_connect: Mutex<Instant>,
    pub(super) inflight: tokio::sync::Semaphore,
    ticks: Ticks,
}

/// Running totals for the progress line, from every thread.
#[derive(Default)]
struct Ticks {
    attempts: AtomicU64,
    present: AtomicU64,
    failures: AtomicU64,
    late_us: AtomicU64,
    /// Per broker, the latest `$SYS` connected and retained figures (f64 bits; NaN unknown).
    connected: Vec<AtomicU64>,
    retained: Vec<AtomicU64>,
    lost: Vec<AtomicBool>,
    /// Per broker, when it first failed (microseconds since the start; u64::MAX: never).
    failed_at: Vec<AtomicU64>,
}

/// A broker failure count past which the run stops at once: the broker is gone or unusable.
fn abort_after(clients: u32) -> u64 {
    (u64::from(clients) / 100).max(10)
}

impl Run {
    fn new(
        opts: DriveOptions,
        start: Instant,
        end: Instant,
        ramp_end: Instant,
        clients: u32,
        stop: &'static AtomicBool,
        n: usize,
    ) -> Run {
        let end = if end > start { end } else { start + opts.time_limit };
        Run {
            inflight: tokio::sync::Semaphore::new(opts.max_inflight.max(1)),
            next_connect: Mutex::new(start),
            end,
            ramp_end,
            start,
            clients,
            stop,
            abort: AtomicBool::new(false),
            abort_why: Mutex::new(None),
            ticks: Ticks {
                connected: (0..n).map(|_| AtomicU64::new(f64::NAN.to_bits())).collect(),
                retained: (0..n).map(|_| AtomicU64::new(f64::NAN.to_bits())).collect(),
                lost: (0..n).map(|_| AtomicBool::new(false)).collect(),
                failed_at: (0..n).map(|_| AtomicU64::new(u64::MAX)).collect(),
                ..Ticks::default()
            },
            opts,
        }
    }
    /// The next connection slot under `connect_rate`.
    pub(super) fn pace(&self) -> Instant {
        let mut next = self.next_connect.lock().unwrap_or_else(|e| e.into_inner());
        let at = (*next).max(Instant::now());
        *next = at + Duration::from_secs_f64(1.0 / self.opts.connect_rate.max(1e-3));
        at
    }
    pub(super) fn over(&self) -> bool {
        Instant::now() >= self.end || self.stop.load(Ordering::Relaxed) || self.abort.load(Ordering::Relaxed)
    }
    fn abort(&self, why: String) {
        let mut w = self.abort_why.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_none() {
            *w = Some(why);
        }
        self.abort.store(true, Ordering::SeqCst);
    }
    pub(super) fn since_start(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.start).as_secs_f64()
    }
    /// Broker `b` failed now (only the first time counts).
    fn broker_failed(&self, b: usize) {
        let us = Instant::now().saturating_duration_since(self.start).as_micros() as u64;
        self.ticks.failed_at[b].fetch_min(us, Ordering::Relaxed);
    }
    /// Wall-clock seconds from which broker `b`'s closes are its failure's, not its keep-alive:
    /// a second before its first failure was seen (a dying broker closes every socket at once).
    fn failing_from(&self, b: usize, start_wall: f64) -> f64 {
        match self.ticks.failed_at[b].load(Ordering::Relaxed) {
            u64::MAX => f64::INFINITY,
            us => start_wall + us as f64 / 1e6 - 1.0,
        }
    }
}

/// One thread's share of a run (one thread: no locks).
pub(super) struct Shared {
    pub(super) run: std::sync::Arc<Run>,
    pub(super) m: RefCell<Measured>,
    /// Every connection left open and silent, to count afterwards those the broker closed.
    pub(super) holds: RefCell<Vec<Rc<RefCell<HeldConn>>>>,
    pub(super) pending: RefCell<Vec<Pending>>,
}

impl Shared {
    /// A run of one thread from now until `opts.time_limit` (or `stop`), for `--calibrate`.
    pub(super) fn single(opts: DriveOptions, stop: &'static AtomicBool) -> Rc<Shared> {
        let start = Instant::now();
        let n = opts.brokers.len();
        Shared::new(std::sync::Arc::new(Run::new(opts, start, start, start, 1, stop, n)))
    }
    fn new(run: std::sync::Arc<Run>) -> Rc<Shared> {
        let brokers = run.opts.brokers.iter().map(|b| BrokerSeen { addr: b.name.clone(), ..Default::default() });
        let m = Measured { brokers: brokers.collect(), ..Default::default() };
        Rc::new(Shared { run, m: RefCell::new(m), holds: RefCell::new(Vec::new()), pending: RefCell::new(Vec::new()) })
    }
    pub(super) fn since_start(&self, t: Instant) -> f64 {
        self.run.since_start(t)
    }
    pub(super) fn over(&self) -> bool {
        self.run.over()
    }
    /// Something the driver meant to do at `due` happened at `at`: record how late.
    pub(super) fn late(&self, due: Instant, at: Instant) {
        let us = at.saturating_duration_since(due).as_micros() as u64;
        let mut m = self.m.borrow_mut();
        if due < self.run.ramp_end {
            m.timing.ramp.record(us)
        } else {
            m.timing.steady.record(us)
        }
        self.run.ticks.late_us.fetch_max(us, Ordering::Relaxed);
    }
    /// A failure of client `c`'s exchange: counted against the broker or this machine; the run
    /// stops at once when the broker is plainly gone.
    pub(super) fn failed(&self, c: u32, broker: usize, f: Failed) {
        let text = match &f {
            Failed::Over => return,
            Failed::Broker(m) | Failed::Driver(m) => format!("client {c}: {m}"),
        };
        let mut m = self.m.borrow_mut();
        match f {
            Failed::Broker(_) => {
                m.brokers[broker].failures += 1;
                self.run.broker_failed(broker);
            }
            _ => m.driver_failures += 1,
        }
        if m.failure_messages.len() < FAILURES_SHOWN {
            m.failure_messages.push(text.clone());
        }
        let all = self.run.ticks.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if all >= abort_after(self.run.clients) {
            self.run.abort(format!("{all} connections failed, the last: {text}"));
        }
    }
    /// A recovery attempt was answered.
    pub(super) fn attempted(&self, p: Pending) {
        self.run.ticks.attempts.fetch_add(1, Ordering::Relaxed);
        if p.attempt.session_present {
            self.run.ticks.present.fetch_add(1, Ordering::Relaxed);
        }
        self.pending.borrow_mut().push(p);
    }
}

/// Sleep until `at` (or the end), recording how late the wake-up was when `record`. False
/// once the run is over. (A signal or an abort does not wake each sleeper: the thread's watch
/// drops every task at once, so a sleeping client costs nothing until it is due.)
pub(super) async fn wait(s: &Shared, at: Instant, record: bool) -> bool {
    let at = at.min(s.run.end);
    if s.over() {
        return false;
    }
    sleep_until(at.into()).await;
    if record && at < s.run.end {
        s.late(at, Instant::now());
    }
    !s.over()
}

/// The broker's rule for a session whose connection ended at wall time `ended` (seconds):
/// kept until the start of second floor(ended) + R + 1 (R = u32::MAX: never; R = 0: not kept
/// at all, MQTT 5 3.1.2.11.2).
pub(super) fn expiry_epoch(ended: f64, expiry: u32) -> f64 {
    match expiry {
        u32::MAX => f64::INFINITY,
        0 => ended,
        r => ended.floor() + f64::from(r) + 1.0,
    }
}

/// How the client's previous connection ended, for predicting its next attempt.
pub(super) enum Previous {
    /// None yet.
    Nothing,
    /// Left silent; see `HeldConn`.
    Silent(Rc<RefCell<HeldConn>>),
}

/// A recovery attempt waiting for its prediction (made once the run is over, when every
/// held connection's fate is known).
pub(super) struct Pending {
    pub(super) attempt: Attempt,
    pub(super) sent_wall: f64,
    pub(super) new_identifier: bool,
    pub(super) previous: Previous,
}

/// The broker's rule applied to what the driver saw: (Session Present predicted, margin).
pub(super) fn predict(p: &Pending, r: &super::client::Rules) -> (Option<bool>, f64) {
    let expiry = r.expiry;
    if p.new_identifier {
        return (Some(false), f64::INFINITY); // a new Client Identifier has no session (S17)
    }
    let ended = match &p.previous {
        Previous::Nothing => return (None, 0.0),
        Previous::Silent(h) => {
            let h = h.borrow();
            if h.broker != p.attempt.broker {
                return (None, 0.0); // another broker held it: no rule of one broker applies
            }
            match h.state {
                Held::Closed(t) if t <= p.sent_wall => t,
                // Not closed before the CONNECT: the session was live and is taken over. Had the
                // broker closed it unseen just before, a retained session answers the same.
                _ if expiry > 0 || r.keep_alive == 0 => return (Some(true), f64::INFINITY),
                _ => {
                    let earliest_close = h.last_send.floor() + f64::from(r.keep_alive) * 1.5 + 1.0;
                    return (Some(true), earliest_close.floor() - p.sent_wall);
                }
            }
        }
    };
    let until = expiry_epoch(ended, expiry);
    // Too close to a whole second at the end, and the broker may have counted the other one.
    let edge = (ended - ended.floor()).min(ended.ceil() - ended);
    let margin = (p.sent_wall - until).abs().min(if expiry == u32::MAX { f64::INFINITY } else { edge });
    (Some(p.sent_wall < until), margin)
}

/// A live run's state, once a second, for a progress line.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Real seconds since the start, and the run's length.
    pub elapsed: f64,
    /// See `elapsed`.
    pub length: f64,
    /// Connections the brokers report (`$SYS/broker/clients/connected`, summed; NaN until known
    /// or once a broker's monitor is lost).
    pub connected: f64,
    /// Sessions they retain without a connection (`$SYS/broker/clients/disconnected`).
    pub retained: f64,
    /// Brokers whose `$SYS` monitor lost its connection.
    pub lost: usize,
    /// Recovery attempts so far, and how many found their session.
    pub attempts: u64,
    /// See `attempts`.
    pub present: u64,
    /// The latest any scheduled action fired in the last second, milliseconds.
    pub late_ms: f64,
    /// Failed connections and exchanges so far (every one, not a list's length).
    pub failures: u64,
}

impl Run {
    fn progress(&self, length: f64) -> Progress {
        let t = &self.ticks;
        let sum = |v: &[AtomicU64]| v.iter().map(|x| f64::from_bits(x.load(Ordering::Relaxed))).sum::<f64>();
        let lost = t.lost.iter().filter(|x| x.load(Ordering::Relaxed)).count();
        let (connected, retained) = if lost > 0 { (f64::NAN, f64::NAN) } else { (sum(&t.connected), sum(&t.retained)) };
        Progress {
            elapsed: self.since_start(Instant::now()).min(length),
            length,
            connected,
            retained,
            lost,
            attempts: t.attempts.load(Ordering::Relaxed),
            present: t.present.load(Ordering::Relaxed),
            late_ms: t.late_us.swap(0, Ordering::Relaxed) as f64 / 1e3,
            failures: t.failures.load(Ordering::Relaxed),
        }
    }
}

/// Broker `b`'s own figures: `$SYS/broker/clients/disconnected` (sessions retained without a
/// connection), `connected`, `heap/current` and the refreshes (`uptime`), as it publishes them.
/// Losing this connection means the broker died or shut us out: the run stops.
async fn monitor(s: Rc<Shared>, b: usize) {
    let run = s.run.clone();
    let id = format!("impsim-monitor-{}-{}-{b}", std::process::id(), run.opts.shard.index);
    let lost = |why: String| {
        let t = run.since_start(Instant::now());
        s.m.borrow_mut().brokers[b].monitor_lost = Some(t);
        run.ticks.lost[b].store(true, Ordering::Relaxed);
        run.broker_failed(b);
        run.abort(format!("broker {}: the $SYS monitor's connection: {why}", run.opts.brokers[b].name));
    };
    let mut conn = match open(&s, b, None, &id, (true, 60, 0), None).await {
        Ok((c, _, _)) => c,
        Err(Failed::Over) => return,
        Err(Failed::Broker(m) | Failed::Driver(m)) => return lost(m),
    };
    for (i, topic) in [DISCONNECTED, CONNECTED, HEAP, UPTIME].into_iter().enumerate() {
        if let Err(e) = conn.send(&s, &Outgoing::Subscribe { packet_id: i as u16 + 1, topic }).await {
            return lost(e.to_string());
        }
    }
    let mut ping = Instant::now() + Duration::from_secs(30);
    let mut awaiting: Option<Instant> = None;
    loop {
        let wake = awaiting.unwrap_or(ping).min(run.end);
        tokio::select! {
            r = conn.next() => match r {
                // A retained figure is the broker's last one, possibly from before this run.
                Ok(Some(Incoming::Publish { retained: true, .. })) => {}
                Ok(Some(Incoming::Publish { topic, payload, .. })) => {
                    let now = Instant::now();
                    if now >= run.end {
                        return; // a figure from after the run's end is not the run's
                    }
                    let t = run.since_start(now);
                    let v: f64 = String::from_utf8_lossy(&payload).trim().parse().unwrap_or(f64::NAN);
                    let mut m = s.m.borrow_mut();
                    let seen = &mut m.brokers[b];
                    match topic.as_str() {
                        DISCONNECTED => {
                            seen.retained.push((t, v));
                            run.ticks.retained[b].store(v.to_bits(), Ordering::Relaxed);
                        }
                        CONNECTED => {
                            seen.connected.push((t, v));
                            run.ticks.connected[b].store(v.to_bits(), Ordering::Relaxed);
                        }
                        HEAP => seen.heap.push((t, v)),
                        UPTIME => seen.refreshes.push(t),
                        _ => {}
                    }
                }
                Ok(Some(_)) => awaiting = None, // PINGRESP, SUBACK
                Ok(None) => return if !run.over() { lost("closed by the broker".into()) },
                Err(e) => return if !run.over() { lost(e.to_string()) },
            },
            _ = sleep_until(wake.into()) => {
                if run.over() {
                    return;
                }
                if awaiting.is_some() {
                    return lost(format!("no PINGRESP within {:.0} s", run.opts.deadline.as_secs_f64()));
                }
                if let Err(e) = conn.send(&s, &Outgoing::PingReq).await {
                    return lost(e.to_string());
                }
                awaiting = Some(Instant::now() + run.opts.deadline);
                ping = Instant::now() + Duration::from_secs(30);
            }
        }
    }
}

const DISCONNECTED: &str = "$SYS/broker/clients/disconnected";
const CONNECTED: &str = "$SYS/broker/clients/connected";
const HEAP: &str = "$SYS/broker/heap/current";
const UPTIME: &str = "$SYS/broker/uptime";

/// The client slots thread `t` of `threads` drives in `shard`.
fn slots(clients: u32, shard: Shard, threads: usize, t: usize) -> impl Iterator<Item = u32> {
    (0..clients).filter(move |&c| shard.has(c) && (c / shard.count) as usize % threads == t)
}

/// One thread's part: its clients (and, on thread 0, the monitors) until the run is over.
fn drive_thread(
    run: std::sync::Arc<Run>,
    p: &Params,
    t: usize,
    rules: super::client::Rules,
) -> Result<Measured, String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    let shared = Shared::new(run.clone());
    let params = Rc::new(p.clone());
    let mine: Vec<u32> = slots(p.clients, run.opts.shard, run.opts.threads, t).collect();
    shared.m.borrow_mut().clients = mine.len() as u32;
    local.block_on(&rt, async {
        let mut tasks = Vec::new();
        if t == 0 && run.opts.monitor {
            for b in 0..run.opts.brokers.len() {
                tasks.push(tokio::task::spawn_local(monitor(shared.clone(), b)));
            }
        }
        for c in mine {
            tasks.push(tokio::task::spawn_local(super::client::life(shared.clone(), params.clone(), c, rules)));
        }
        let all = async {
            for task in tasks {
                let _ = task.await;
            }
        };
        // Whatever a task waits on, the run ends at its end, its time limit or a signal: the
        // tasks still waiting are dropped with their connections.
        let over = async {
            while !run.over() {
                sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            () = all => {}
            () = over => {}
        }
    });
    drop(local);
    drop(rt);
    Ok(settle(&shared, &rules))
}

/// One thread's tally once its tasks are gone: the keep-alive closes, logouts, the sessions
/// without a connection as the driver saw them, each attempt's prediction.
fn settle(shared: &Shared, rules: &super::client::Rules) -> Measured {
    let mut m = shared.m.replace(Measured::default());
    let holds = shared.holds.borrow();
    let start_wall = super::conn::epoch_seconds(shared.run.start);
    // A close once its broker was failing is the failure's, not a keep-alive timeout.
    let failing: Vec<f64> = (0..m.brokers.len()).map(|b| shared.run.failing_from(b, start_wall)).collect();
    // The broker's keep-alive closes: silent connections it closed before their client came
    // back (as the same client: an auto-logout; under another Client Identifier: an orphan).
    for h in holds.iter() {
        let h = h.borrow();
        let Held::Closed(t) = h.state else { continue };
        if h.logout || h.replaced_at.is_some_and(|r| r <= t) || t >= failing[h.broker] {
            continue;
        }
        match h.orphaned_at {
            Some(o) if o <= t => m.orphans_closed += 1,
            _ => m.broker_closed += 1,
        }
    }
    m.logouts = holds.iter().filter(|h| h.borrow().logout).count() as u64;
    // Sessions without a connection, as the driver saw them: from each close to the client's
    // return or the broker's expiry rule, whichever came first (and never past a failure).
    for h in holds.iter() {
        let h = h.borrow();
        let Held::Closed(t) = h.state else { continue };
        if h.replaced_at.is_some_and(|r| r <= t) || t >= failing[h.broker] {
            continue; // closed by its client's own takeover: never without a connection
        }
        let until = expiry_epoch(t, rules.expiry).min(failing[h.broker]);
        let end = h.replaced_at.map_or(until, |r| r.min(until));
        m.brokers[h.broker].retained_seen.push((t - start_wall, end - start_wall));
    }
    m.attempts = shared
        .pending
        .borrow()
        .iter()
        .map(|x| {
            let (predicted, margin) = predict(x, rules);
            Attempt { predicted, margin, ..x.attempt.clone() }
        })
        .collect();
    m
}

/// When the last client of `shard` is first due: the end of the ramp.
fn ramp_length(p: &Params, shard: Shard) -> crate::engine::SimDuration {
    (0..p.clients)
        .filter(|&c| shard.has(c))
        .map(|c| ClientDraws::new(p, c).startup())
        .max()
        .unwrap_or(crate::engine::SimDuration::ZERO)
}

/// Play scenario `p` against the brokers of `opts` until its (compressed) end, the time limit,
/// a signal (`stop`) or a broker failure; every connection is closed when this returns.
pub fn drive(
    p: &Params,
    opts: DriveOptions,
    stop: &'static AtomicBool,
    progress: &dyn Fn(&Progress),
) -> Result<Measured, String> {
    let (expiry, keep_alive) = opts.scale.check(p).map_err(|(field, why)| format!("field `{field}`: {why}"))?;
    let ping_every = Duration::from_secs_f64((f64::from(keep_alive) * p.client.keepalive_ratio).max(0.001));
    let ping_every = if keep_alive == 0 { Duration::from_secs(86_400 * 365) } else { ping_every };
    let rules = super::client::Rules { keep_alive, expiry, ping_every };
    let threads = opts.threads.max(1);
    let n = opts.brokers.len();
    let length = opts.scale.real(p.duration.0).min(opts.time_limit);
    let start = Instant::now();
    let ramp_end = start + opts.scale.real(ramp_length(p, opts.shard)).min(length);
    let pids: Vec<Option<u32>> = opts.brokers.iter().map(|b| capacity::listener_pid(b.addr)).collect();
    let broker_cpu = || pids.iter().map(|p| p.and_then(capacity::process_cpu_seconds)).collect::<Vec<_>>();
    let (cpu0, bcpu0, mach0) = (capacity::own_cpu_seconds(), broker_cpu(), capacity::machine_ticks());
    let clients = (0..p.clients).filter(|&c| opts.shard.has(c)).count() as u32;
    let run = std::sync::Arc::new(Run::new(
        DriveOptions { threads, ..opts },
        start,
        start + length,
        ramp_end,
        clients,
        stop,
        n,
    ));
    let start_epoch = super::conn::epoch_seconds(start);
    let (results, ramp_cpu) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let run = run.clone();
                std::thread::Builder::new()
                    .name(format!("impsim-live-{t}"))
                    .spawn_scoped(scope, move || drive_thread(run, p, t, rules))
            })
            .collect();
        // The main thread reports progress and reads the CPU at the ramp's end.
        let mut ramp_cpu = None;
        let secs = length.as_secs_f64();
        let mut next_tick = start + Duration::from_secs(1);
        while !handles.iter().all(|h| h.as_ref().map_or(true, |h| h.is_finished())) {
            std::thread::sleep(Duration::from_millis(20));
            let now = Instant::now();
            if ramp_cpu.is_none() && now >= ramp_end {
                ramp_cpu = Some((capacity::own_cpu_seconds(), broker_cpu(), capacity::machine_ticks()));
            }
            if now >= next_tick {
                next_tick = now + Duration::from_secs(1);
                progress(&run.progress(secs));
            }
        }
        let joined = handles
            .into_iter()
            .map(|h| h.map_err(|e| e.to_string())?.join().map_err(|_| "a driver thread panicked".to_string())?)
            .collect::<Vec<_>>();
        (joined, ramp_cpu)
    });
    let ended_at = Instant::now().min(run.end);
    let (cpu1, bcpu1, mach1) = (capacity::own_cpu_seconds(), broker_cpu(), capacity::machine_ticks());
    let (cpu_r, bcpu_r, mach_r) = ramp_cpu.unwrap_or_else(|| (cpu1, bcpu1.clone(), mach1));
    let mut m = Measured::default();
    for r in results {
        m.absorb(r?);
    }
    m.sort();
    m.threads = threads;
    m.cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    m.start_epoch = start_epoch;
    m.wall_seconds = run.since_start(ended_at);
    m.ramp_seconds = run.since_start(ramp_end).min(m.wall_seconds);
    m.driver_cpu_seconds = [cpu_r - cpu0, cpu1 - cpu_r];
    m.machine_busy = [capacity::busy_between(mach0, mach_r), capacity::busy_between(mach_r, mach1)];
    for (b, seen) in m.brokers.iter_mut().enumerate() {
        if let (Some(a), Some(r), Some(z)) = (bcpu0[b], bcpu_r[b], bcpu1[b]) {
            seen.cpu_seconds = Some([r - a, z - r]);
        }
    }
    m.peak_rss = capacity::own_peak_rss();
    m.ending = if let Some(why) = run.abort_why.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Ending::Aborted(why)
    } else if stop.load(Ordering::SeqCst) {
        Ending::Interrupted
    } else if length < run.opts.scale.real(p.duration.0) {
        Ending::TimeLimit
    } else {
        Ending::Finished
    };
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_and_threads_partition_the_clients() {
        let shard = Shard::parse("2/3").unwrap();
        assert_eq!(shard.to_string(), "2/3");
        let mut seen: Vec<u32> = (0..4).flat_map(|t| slots(100, shard, 4, t)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).filter(|c| c % 3 == 1).collect::<Vec<_>>());
        let mut all: Vec<u32> =
            (1..=3).flat_map(|i| slots(10, Shard::parse(&format!("{i}/3")).unwrap(), 1, 0)).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>(), "the shards cover every client once");
        for bad in ["4/3", "0/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).unwrap_err().contains("1 <= I <= N"), "{bad}");
        }
        assert_eq!(Shard::parse(" 1 / 1 ").unwrap(), Shard::WHOLE);
    }

    #[test]
    fn a_session_is_kept_to_the_start_of_the_second_after_r_whole_seconds() {
        assert_eq!(expiry_epoch(100.3, 5), 106.0, "uniform on (R, R+1] after the close");
        assert_eq!(expiry_epoch(100.0, 5), 106.0);
        assert_eq!(expiry_epoch(100.3, 0), 100.3, "R = 0 keeps nothing, not until the next second");
        assert_eq!(expiry_epoch(100.3, u32::MAX), f64::INFINITY);
    }

    #[test]
    fn broker_failures_stop_the_run_past_one_in_a_hundred_clients() {
        assert_eq!(abort_after(300), 10);
        assert_eq!(abort_after(19_000), 190);
    }
}
