//! The virtual clients against a real broker: one task and one TCP connection per client, the
//! user's behaviour replayed from the simulation's own draws (`model::behaviour`), the MQTT
//! reactions closed-loop (Session Present = 0 leads to re-subscribing), every recovery attempt
//! recorded with the times the driver saw, and a `$SYS` monitor of the broker's sessions.

use super::codec::{Incoming, Outgoing, decode, encode};
use super::scale::Scale;
use crate::model::Params;
use crate::model::protocol::mqtt5::wire;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, sleep_until};

/// How the driver loads the broker.
#[derive(Clone, Debug)]
pub struct DriveOptions {
    /// The broker.
    pub broker: SocketAddr,
    /// Time compression.
    pub scale: Scale,
    /// At most this many CONNECTs waiting for their CONNACK (Mosquitto's listen backlog is 100).
    pub max_inflight: usize,
    /// At most this many new connections per second.
    pub connect_rate: f64,
    /// Stop after this much real time even if the scenario runs longer.
    pub time_limit: Duration,
}

/// One CONNECT with Clean Start = 0 for an identifier that had a session: a recovery attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// The client slot.
    pub client: u32,
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

/// What a live run measured.
#[derive(Debug, Default)]
pub struct Measured {
    /// Every recovery attempt.
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
    /// Packets sent and their bytes.
    pub packets: u64,
    /// See `packets`.
    pub bytes: u64,
    /// How late each scheduled action fired, microseconds.
    pub lateness_us: Vec<u64>,
    /// CONNECT-to-CONNACK times of every connection, microseconds.
    pub connack_us: Vec<u64>,
    /// `$SYS/broker/clients/disconnected` (retained sessions) over time: (seconds since the
    /// start, value).
    pub retained: Vec<(f64, f64)>,
    /// `$SYS/broker/clients/connected` over time: (seconds since the start, value).
    pub connected: Vec<(f64, f64)>,
    /// `$SYS/broker/heap/current` over time: (seconds since the start, bytes).
    pub heap: Vec<(f64, f64)>,
    /// Sessions without a connection as the driver saw them: (from, to) seconds since the
    /// start, each from its connection's end to its client's return or its expiry.
    pub retained_seen: Vec<(f64, f64)>,
    /// Connections that failed (refused, reset) and why, first few.
    pub errors: Vec<String>,
    /// Real seconds the run took.
    pub wall_seconds: f64,
}

/// Shared by the tasks of one run (one thread: no locks).
pub(super) struct Shared {
    pub(super) opts: DriveOptions,
    pub(super) start: Instant,
    pub(super) end: Instant,
    pub(super) stop: Rc<dyn Fn() -> bool>,
    pub(super) inflight: tokio::sync::Semaphore,
    pub(super) next_connect: RefCell<Instant>,
    pub(super) m: RefCell<Measured>,
    /// Every connection left open and silent, to count afterwards those the broker closed.
    pub(super) holds: RefCell<Vec<Rc<RefCell<HeldConn>>>>,
}

impl Shared {
    /// A run starting now that lasts `length` (at most the time limit) or until `stop`.
    pub(super) fn new(opts: DriveOptions, length: Duration, stop: &'static AtomicBool) -> Rc<Shared> {
        let start = Instant::now();
        Rc::new(Shared {
            inflight: tokio::sync::Semaphore::new(opts.max_inflight.max(1)),
            end: start + length.min(opts.time_limit),
            opts,
            start,
            stop: Rc::new(move || stop.load(Ordering::Relaxed)),
            next_connect: RefCell::new(start),
            m: RefCell::new(Measured::default()),
            holds: RefCell::new(Vec::new()),
        })
    }
    pub(super) fn since_start(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.start).as_secs_f64()
    }
    pub(super) fn over(&self) -> bool {
        Instant::now() >= self.end || (self.stop)()
    }
    pub(super) fn error(&self, e: String) {
        let mut m = self.m.borrow_mut();
        if m.errors.len() < 20 {
            m.errors.push(e);
        }
    }
}

/// Sleep until `at` (or the end), recording how late the wake-up was. False once the run is over.
pub(super) async fn wait(s: &Shared, at: Instant) -> bool {
    let at = at.min(s.end);
    while Instant::now() < at {
        if (s.stop)() {
            return false;
        }
        let step = (at - Instant::now()).min(Duration::from_millis(200));
        sleep_until((Instant::now() + step).into()).await;
    }
    if at < s.end {
        s.m.borrow_mut().lateness_us.push(Instant::now().saturating_duration_since(at).as_micros() as u64);
    }
    !s.over()
}

/// One TCP connection and what has been read from it.
pub(super) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub(super) async fn send(&mut self, s: &Shared, p: &Outgoing<'_>) -> std::io::Result<()> {
        let mut b = Vec::with_capacity(64);
        encode(p, &mut b);
        {
            let mut m = s.m.borrow_mut();
            m.packets += 1;
            m.bytes += b.len() as u64;
        }
        self.stream.write_all(&b).await
    }
    /// The next packet; `None` when the broker closed the connection.
    pub(super) async fn next(&mut self) -> std::io::Result<Option<Incoming>> {
        loop {
            match decode(&self.buf) {
                Ok(Some((p, n))) => {
                    self.buf.drain(..n);
                    return Ok(Some(p));
                }
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Ok(None);
            }
        }
    }
}

/// Wall-clock seconds since the epoch at `t`, as the broker's clock reads them.
pub(super) fn epoch_seconds(t: Instant) -> f64 {
    let now_wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    now_wall - Instant::now().saturating_duration_since(t).as_secs_f64()
}

/// The broker's rule for a session whose connection ended at wall time `ended` (seconds):
/// kept until the start of second floor(ended) + R + 1 (R = u32::MAX: never).
fn expiry_epoch(ended: f64, expiry: u32) -> f64 {
    if expiry == u32::MAX { f64::INFINITY } else { ended.floor() + f64::from(expiry) + 1.0 }
}

/// Open a connection and CONNECT; returns the connection and Session Present.
pub(super) async fn connect(
    s: &Shared,
    client_id: &str,
    clean_start: bool,
    keep_alive: u16,
    expiry: u32,
) -> Result<(Conn, bool, Duration), String> {
    // Pace connections: at most `connect_rate` per second, `max_inflight` at once.
    let slot = {
        let mut next = s.next_connect.borrow_mut();
        let at = (*next).max(Instant::now());
        *next = at + Duration::from_secs_f64(1.0 / s.opts.connect_rate.max(1e-3));
        at
    };
    sleep_until(slot.into()).await;
    let _permit = s.inflight.acquire().await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let stream = TcpStream::connect(s.opts.broker).await.map_err(|e| format!("{}: {e}", s.opts.broker))?;
    let _ = stream.set_nodelay(true);
    let mut c = Conn { stream, buf: Vec::with_capacity(256) };
    c.send(s, &Outgoing::Connect { client_id, clean_start, keep_alive, session_expiry: expiry })
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match c.next().await.map_err(|e| e.to_string())? {
            Some(Incoming::ConnAck { session_present, reason: 0, .. }) => {
                let took = started.elapsed();
                s.m.borrow_mut().connack_us.push(took.as_micros() as u64);
                return Ok((c, session_present, took));
            }
            Some(Incoming::ConnAck { reason, .. }) => {
                return Err(format!("CONNACK refused the connection: reason {reason:#x}"));
            }
            Some(_) => continue,
            None => return Err("the broker closed the connection before CONNACK".into()),
        }
    }
}

/// Subscribe to `n` topics of client `c`, one SUBSCRIBE each, each awaited (the rebuild).
pub(super) async fn subscribe_all(s: &Shared, conn: &mut Conn, c: u32, n: u32) -> Result<(), String> {
    for i in 0..n {
        let topic = wire::topic(c, i);
        conn.send(s, &Outgoing::Subscribe { packet_id: (i % 65_535 + 1) as u16, topic: &topic })
            .await
            .map_err(|e| e.to_string())?;
        loop {
            match conn.next().await.map_err(|e| e.to_string())? {
                Some(Incoming::SubAck { .. }) => break,
                Some(_) => continue,
                None => return Err("the broker closed the connection during SUBSCRIBE".into()),
            }
        }
    }
    Ok(())
}

/// What became of a connection left open and silent (a transport break, a device power
/// cycle, a walk-away).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Held {
    /// Still open.
    Open,
    /// The broker closed it at this wall time: its keep-alive timeout, or a takeover by the
    /// client's next connection (Mosquitto 2.0 closes the old socket without a DISCONNECT).
    Closed(f64),
    /// The broker said a new connection took the session over (DISCONNECT 0x8E).
    TakenOver,
}

/// A silent connection and what the driver knows of it (wall-clock seconds).
#[derive(Debug)]
pub(super) struct HeldConn {
    pub(super) state: Held,
    /// When its client last sent on it: the broker's keep-alive timer counts from there.
    pub(super) last_send: f64,
    /// When the client connected again with the same Client Identifier.
    pub(super) replaced_at: Option<f64>,
    /// When the client connected again under another Client Identifier, leaving this one
    /// live until the broker's keep-alive closes it.
    pub(super) orphaned_at: Option<f64>,
    /// The Client-ID generation it belongs to.
    pub(super) identity: u32,
    /// Ended by the client's DISCONNECT (a logout), not left silent.
    pub(super) logout: bool,
}

/// A record of a connection about to go silent, kept with the run's others.
pub(super) fn silent_record(s: &Shared, last_send: Instant, identity: u32) -> Rc<RefCell<HeldConn>> {
    let rec = Rc::new(RefCell::new(HeldConn {
        state: Held::Open,
        last_send: epoch_seconds(last_send),
        replaced_at: None,
        orphaned_at: None,
        identity,
        logout: false,
    }));
    s.holds.borrow_mut().push(rec.clone());
    rec
}

/// Read a silent connection until `until`: Some(conn) if it is still open then, None if the
/// broker ended it (recorded in `rec`).
pub(super) async fn stay_silent(s: &Shared, mut conn: Conn, rec: &RefCell<HeldConn>, until: Instant) -> Option<Conn> {
    loop {
        tokio::select! {
            r = conn.next() => match r {
                Ok(Some(Incoming::Disconnect { reason: 0x8E })) => {
                    rec.borrow_mut().state = Held::TakenOver;
                    return None;
                }
                Ok(Some(_)) => continue,
                _ => {
                    rec.borrow_mut().state = Held::Closed(epoch_seconds(Instant::now()));
                    return None;
                }
            },
            _ = sleep_until(until.min(s.end).into()) => return Some(conn),
        }
    }
}

/// Keep `conn` open and silent for the rest of the run, reading only to see how the broker
/// ends it (into `rec`).
pub(super) fn hold_silent(s: &Rc<Shared>, conn: Conn, rec: Rc<RefCell<HeldConn>>) {
    let s = s.clone();
    tokio::task::spawn_local(async move {
        let end = s.end;
        let _ = stay_silent(&s, conn, &rec, end).await;
    });
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
fn predict(p: &Pending, r: &super::client::Rules) -> (Option<bool>, f64) {
    let expiry = r.expiry;
    if p.new_identifier {
        return (Some(false), f64::INFINITY); // a new Client Identifier has no session (S17)
    }
    let ended = match &p.previous {
        Previous::Nothing => return (None, 0.0),
        Previous::Silent(h) => {
            let h = h.borrow();
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
    /// Connections the broker reports (`$SYS/broker/clients/connected`, NaN until known).
    pub connected: f64,
    /// Sessions it retains without a connection (`$SYS/broker/clients/disconnected`).
    pub retained: f64,
    /// Recovery attempts so far, and how many found their session.
    pub attempts: usize,
    /// See `attempts`.
    pub present: usize,
    /// The latest any scheduled action fired in the last second, milliseconds.
    pub late_ms: f64,
    /// Connection errors so far.
    pub errors: usize,
}

/// Call `progress` once a second until the run is over or every client is `done`.
async fn report_progress(
    s: &Rc<Shared>,
    pending: &Rc<RefCell<Vec<Pending>>>,
    progress: &dyn Fn(&Progress),
    done: &std::cell::Cell<bool>,
) {
    let length = s.end.saturating_duration_since(s.start).as_secs_f64();
    let mut seen_lateness = 0;
    while !s.over() && !done.get() {
        sleep(Duration::from_secs(1)).await;
        let m = s.m.borrow();
        let late = m.lateness_us[seen_lateness.min(m.lateness_us.len())..].iter().max().copied().unwrap_or(0);
        seen_lateness = m.lateness_us.len();
        let attempts = pending.borrow();
        progress(&Progress {
            elapsed: s.since_start(Instant::now()).min(length),
            length,
            connected: m.connected.last().map_or(f64::NAN, |x| x.1),
            retained: m.retained.last().map_or(f64::NAN, |x| x.1),
            attempts: attempts.len(),
            present: attempts.iter().filter(|a| a.attempt.session_present).count(),
            late_ms: late as f64 / 1e3,
            errors: m.errors.len(),
        });
    }
}

/// The broker's own figures: `$SYS/broker/clients/disconnected` (sessions retained without a
/// connection) and `$SYS/broker/heap/current`, as the broker publishes them.
async fn monitor(s: Rc<Shared>) {
    let id = format!("impsim-monitor-{}", std::process::id());
    let (mut conn, _, _) = match connect(&s, &id, true, 60, 0).await {
        Ok(x) => x,
        Err(e) => {
            s.error(format!("$SYS monitor: {e}"));
            return;
        }
    };
    for (i, topic) in [DISCONNECTED, CONNECTED, HEAP].into_iter().enumerate() {
        if conn.send(&s, &Outgoing::Subscribe { packet_id: i as u16 + 1, topic }).await.is_err() {
            return;
        }
    }
    let mut ping = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::select! {
            r = conn.next() => match r {
                // A retained figure is the broker's last one, possibly from before this run.
                Ok(Some(Incoming::Publish { retained: true, .. })) => {}
                Ok(Some(Incoming::Publish { topic, payload, .. })) => {
                    let t = s.since_start(Instant::now());
                    let v: f64 = String::from_utf8_lossy(&payload).trim().parse().unwrap_or(f64::NAN);
                    let mut m = s.m.borrow_mut();
                    match topic.as_str() {
                        DISCONNECTED => m.retained.push((t, v)),
                        CONNECTED => m.connected.push((t, v)),
                        HEAP => m.heap.push((t, v)),
                        _ => {}
                    }
                }
                Ok(Some(_)) => {}
                _ => return,
            },
            _ = sleep_until(ping.into()) => {
                if s.over() || conn.send(&s, &Outgoing::PingReq).await.is_err() {
                    return;
                }
                ping = Instant::now() + Duration::from_secs(30);
            }
        }
    }
}

const DISCONNECTED: &str = "$SYS/broker/clients/disconnected";
const CONNECTED: &str = "$SYS/broker/clients/connected";
const HEAP: &str = "$SYS/broker/heap/current";

/// Play scenario `p` against the broker of `opts` until its (compressed) end, the time limit
/// or `stop`; every connection is closed when this returns.
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
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    let length = opts.scale.real(p.duration.0);
    let shared = Shared::new(opts, length, stop);
    let start = shared.start;
    let params = Rc::new(p.clone());
    let pending = Rc::new(RefCell::new(Vec::new()));
    local.block_on(&rt, async {
        let mut tasks = vec![tokio::task::spawn_local(monitor(shared.clone()))];
        let done = std::cell::Cell::new(false);
        let ticker = report_progress(&shared, &pending, progress, &done);
        for c in 0..p.clients {
            tasks.push(tokio::task::spawn_local(super::client::life(
                shared.clone(),
                params.clone(),
                c,
                rules,
                pending.clone(),
            )));
        }
        let all = async {
            for t in tasks {
                let _ = t.await;
            }
            done.set(true);
        };
        // The ticker stops when the run is over; the clients' tasks end the run.
        tokio::join!(all, ticker);
    });
    // Every task has ended; held connections close as the runtime drops.
    drop(local);
    drop(rt);
    let mut m = shared.m.replace(Measured::default());
    m.wall_seconds = start.elapsed().as_secs_f64();
    // The broker's keep-alive closes: silent connections it closed before their client came back.
    // The broker's keep-alive closes: silent connections it closed before their client came
    // back (as the same client: an auto-logout; under another Client Identifier: an orphan).
    for h in shared.holds.borrow().iter() {
        let h = h.borrow();
        let Held::Closed(t) = h.state else { continue };
        if h.logout || h.replaced_at.is_some_and(|r| r <= t) {
            continue;
        }
        match h.orphaned_at {
            Some(o) if o <= t => m.orphans_closed += 1,
            _ => m.broker_closed += 1,
        }
    }
    m.logouts = shared.holds.borrow().iter().filter(|h| h.borrow().logout).count() as u64;
    // Sessions without a connection, as the driver saw them: from each close to the client's
    // return or the broker's expiry rule, whichever came first.
    let start_wall = epoch_seconds(start);
    m.retained_seen = shared
        .holds
        .borrow()
        .iter()
        .filter_map(|h| {
            let h = h.borrow();
            let Held::Closed(t) = h.state else { return None };
            if h.replaced_at.is_some_and(|r| r <= t) {
                return None; // closed by its client's own takeover: never without a connection
            }
            let until = expiry_epoch(t, expiry);
            let end = h.replaced_at.map_or(until, |r| r.min(until));
            Some((t - start_wall, end - start_wall))
        })
        .collect();
    m.attempts = pending
        .borrow()
        .iter()
        .map(|x| {
            let (predicted, margin) = predict(x, &rules);
            Attempt { predicted, margin, ..x.attempt.clone() }
        })
        .collect();
    Ok(m)
}
