//! One virtual client's life against the broker: the simulation's user (periods of use,
//! outages, walking away or logging out, a new Client Identifier, abandonment) played in real
//! time from the same draws, along the same path as the model's `sim/user.rs` and
//! `sim/exchange.rs` under MQTT 5 (no probe after an absence, Session Present = 0 comes with a
//! fresh session, then the subscriptions).

use super::capacity::broker_of;
use super::codec::{Incoming, Outgoing};
use super::conn::{
    Conn, Failed, Held, HeldConn, epoch_seconds, hold_silent, open, silent_record, stay_silent, subscribe_all,
};
use super::driver::{Pending, Previous, Shared, wait};
use super::measured::Attempt;
use crate::model::Params;
use crate::model::behaviour::ClientDraws;
use crate::model::protocol::mqtt5::wire;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What a client task needs to know of the run.
#[derive(Clone, Copy)]
pub(super) struct Rules {
    pub(super) keep_alive: u16,
    pub(super) expiry: u32,
    /// Real time between a client's last packet and its PINGREQ.
    pub(super) ping_every: Duration,
}

/// Which of the online plans is due first (in the simulation's order at one instant).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Due {
    EndOfUse,
    DeviceOff,
    Break,
    Activity,
    Ping,
    /// The broker has not answered a PINGREQ within the deadline.
    NoPingResp,
}

/// How an online spell ended.
enum Left {
    /// Unreachable for a while (a transport break, a power cycle); back now (due at the
    /// instant given), with its old connection if the broker has not closed it.
    Outage(Option<Conn>, Instant),
    /// The user is done: offline until this instant (None: never back).
    Offline(Option<Instant>),
    /// The run is over or the connection failed.
    Stop,
}

/// A virtual client: its draws and what it remembers between connections.
struct Client<'a> {
    s: Rc<Shared>,
    p: &'a Params,
    c: u32,
    r: Rules,
    d: ClientDraws<'a>,
    identity: u32,
    /// It holds a session to recover (the simulation's Session-ID).
    holds_session: bool,
    had_context: bool,
    previous: Previous,
    identifier_changed: bool,
}

/// Client slot `c`'s whole life, until the run ends.
pub(super) async fn life(s: Rc<Shared>, p: Rc<Params>, c: u32, r: Rules) {
    let params: &Params = &p;
    let d = ClientDraws::new(params, c);
    let back = s.run.start + s.run.opts.scale.real(d.startup());
    let mut cl = Client {
        s,
        p: params,
        c,
        r,
        d,
        identity: 0,
        holds_session: false,
        had_context: false,
        previous: Previous::Nothing,
        identifier_changed: false,
    };
    let mut back = Some(back);
    while let Some(at) = back {
        // The connect that follows records how late it went out, pacing included.
        if !wait(&cl.s, at, false).await {
            return;
        }
        back = cl.period_of_use(at).await;
    }
}

impl Client<'_> {
    /// The user is back from offline (due at `due`): connect, stay online through outages until
    /// the user is done; returns when the user is back next (None: never, or the run is over).
    async fn period_of_use(&mut self, mut due: Instant) -> Option<Instant> {
        let use_end = Instant::now() + self.s.run.opts.scale.real(self.d.session_length());
        let mut from_offline = true;
        let mut old: Option<Conn> = None;
        loop {
            if !from_offline && Instant::now() >= use_end {
                // The period of use ended during the outage: the user is done. Logging out
                // reaches the broker only while the old connection is open (as the simulation's
                // Logout reaches a session only while it is live).
                if self.d.logs_out() {
                    if let (Some(conn), Previous::Silent(rec)) = (old.take(), &self.previous) {
                        log_out(&self.s, conn, rec).await;
                    }
                } else if let (Some(conn), Previous::Silent(rec)) = (old.take(), &self.previous) {
                    hold_silent(&self.s, conn, rec.clone()); // walks away
                }
                return self.go_offline();
            }
            if from_offline && self.had_context && self.d.changes_client_id() {
                self.identity += 1; // S17: a new Client Identifier, still holding the old session's
                self.identifier_changed = true;
            }
            let conn = self.connect(due).await?;
            drop(old.take()); // taken over by the new connection
            match self.online(conn, use_end).await {
                Left::Outage(conn, back) => {
                    old = conn;
                    from_offline = false;
                    due = back;
                }
                Left::Offline(back) => return back,
                Left::Stop => return None,
            }
        }
    }

    /// CONNECT (recovering when it holds a session and decides to), recording the attempt, and
    /// the subscriptions when the session is fresh. A failure ends this client's part in the
    /// run (counted against the broker or the driver).
    async fn connect(&mut self, due: Instant) -> Option<Conn> {
        let recover = self.holds_session && self.d.recovers();
        let id = wire::client_id(self.c, self.identity);
        let run = self.s.run.clone();
        let broker = broker_of(&id, run.opts.brokers.len());
        let sources = &run.opts.sources;
        let source = (!sources.is_empty()).then(|| sources[self.c as usize % sources.len()]);
        let connect = (!recover, self.r.keep_alive, self.r.expiry);
        let (mut conn, present, took) = match open(&self.s, broker, source, &id, connect, Some(due)).await {
            Ok(x) => x,
            Err(f) => {
                self.s.failed(self.c, broker, f);
                return None;
            }
        };
        let sent = Instant::now() - took; // when the CONNECT went out, after any pacing
        if let Previous::Silent(h) = &self.previous {
            let mut h = h.borrow_mut();
            if h.identity == self.identity {
                h.replaced_at = Some(epoch_seconds(sent));
            } else {
                h.orphaned_at = Some(epoch_seconds(sent));
            }
        }
        if recover {
            let attempt = Attempt {
                client: self.c,
                broker,
                sent: self.s.since_start(sent),
                session_present: present,
                predicted: None,
                margin: 0.0,
                latency: took.as_secs_f64(),
            };
            let previous = std::mem::replace(&mut self.previous, Previous::Nothing);
            let new_identifier = self.identifier_changed;
            self.s.attempted(Pending { attempt, sent_wall: epoch_seconds(sent), new_identifier, previous });
        }
        self.identifier_changed = false;
        if !present {
            self.s.m.borrow_mut().fresh += 1;
            if let Err(f) = subscribe_all(&self.s, &mut conn, self.c, self.d.rebuild_items(self.identity)).await {
                self.s.failed(self.c, broker, f);
                return None;
            }
        }
        self.holds_session = true;
        self.had_context = true;
        Some(conn)
    }

    /// Online: PINGREQs (each answered within the deadline), activity, until an outage or the
    /// end of the period of use.
    async fn online(&mut self, mut conn: Conn, use_end: Instant) -> Left {
        let (s, k) = (self.s.clone(), self.s.run.opts.scale);
        let never = s.run.end + Duration::from_secs(1);
        let now = Instant::now();
        let [break_at, off_at, mut activity_at] = self.d.plan_online().map(|x| x.map_or(never, |d| now + k.real(d)));
        let mut last_send = Instant::now();
        let mut pingresp_by: Option<Instant> = None;
        loop {
            let ping_at = last_send + self.r.ping_every;
            let (at, due) = [
                (use_end, Due::EndOfUse),
                (off_at, Due::DeviceOff),
                (break_at, Due::Break),
                (activity_at, Due::Activity),
                (ping_at, Due::Ping),
                (pingresp_by.unwrap_or(never), Due::NoPingResp),
            ]
            .into_iter()
            .min_by_key(|(t, _)| *t)
            .expect("six plans");
            // Read while waiting (PINGRESP and the like); a closed connection ends the client.
            let fired = tokio::select! {
                ok = wait(&s, at, due != Due::NoPingResp) => ok,
                r = conn.next() => match r {
                    Ok(Some(Incoming::PingResp)) => {
                        pingresp_by = None;
                        continue;
                    }
                    Ok(Some(Incoming::Disconnect { reason })) => {
                        let why = format!("the broker ended a live connection (DISCONNECT reason {reason:#x}; 0x8e: \
                             another connection took its session over: is another driver using these identifiers?)");
                        s.failed(self.c, conn.broker, Failed::Broker(why));
                        return Left::Stop;
                    }
                    Ok(Some(_)) => continue,
                    _ => {
                        s.failed(self.c, conn.broker, self.closed_live(last_send));
                        return Left::Stop;
                    }
                },
            };
            if !fired {
                return Left::Stop;
            }
            match due {
                Due::NoPingResp => {
                    let why = format!("no PINGRESP within {:.0} s", s.run.opts.deadline.as_secs_f64());
                    s.failed(
                        self.c,
                        conn.broker,
                        Failed::Broker(format!("{}: {why}", s.run.opts.brokers[conn.broker].name)),
                    );
                    return Left::Stop;
                }
                Due::Ping => {
                    if conn.send(&s, &Outgoing::PingReq).await.is_err() {
                        s.failed(self.c, conn.broker, self.closed_live(last_send));
                        return Left::Stop;
                    }
                    last_send = Instant::now();
                    pingresp_by.get_or_insert(last_send + s.run.opts.deadline);
                }
                Due::Activity => {
                    let payload = [0u8; wire::PAYLOAD_LEN as usize];
                    let topic = wire::topic(self.c, 99_999);
                    if conn.send(&s, &Outgoing::Publish { topic: &topic, payload: &payload }).await.is_err() {
                        s.failed(self.c, conn.broker, self.closed_live(last_send));
                        return Left::Stop;
                    }
                    last_send = Instant::now();
                    activity_at = self.d.next_activity().map_or(never, |x| Instant::now() + k.real(x));
                }
                Due::Break | Due::DeviceOff => {
                    // Unreachable for a while: the connection stays open and silent.
                    let len = if due == Due::Break { self.d.break_length() } else { self.d.off_length() };
                    let rec = self.remember_silent(last_send, conn.broker);
                    let back = Instant::now() + k.real(len);
                    let still_open = stay_silent(&s, conn, &rec, back).await;
                    return if wait(&s, back, false).await { Left::Outage(still_open, back) } else { Left::Stop };
                }
                Due::EndOfUse => {
                    let rec = self.remember_silent(last_send, conn.broker);
                    if self.d.logs_out() {
                        log_out(&s, conn, &rec).await;
                    } else {
                        hold_silent(&s, conn, rec); // walks away
                    }
                    return Left::Offline(self.go_offline());
                }
            }
        }
    }

    /// The broker closed a connection its client was using: its keep-alive timeout when the
    /// driver sent nothing for 1.5 Keep Alive (the driver fell behind), else the broker's doing.
    fn closed_live(&self, last_send: Instant) -> Failed {
        let silent = last_send.elapsed().as_secs_f64();
        let timeout = 1.5 * f64::from(self.r.keep_alive);
        if self.r.keep_alive > 0 && silent >= timeout - 1.0 {
            Failed::Driver(format!(
                "the broker closed a live connection {silent:.1} s after its last packet (keep-alive timeout \
                 {timeout:.0} s): the driver sent its PINGREQ too late"
            ))
        } else {
            Failed::Broker(format!("the broker closed a live connection {silent:.1} s after its last packet"))
        }
    }

    /// The connection last sent on at `last_send` is about to go quiet: record it as the
    /// one the next attempt's prediction rests on.
    fn remember_silent(&mut self, last_send: Instant, broker: usize) -> Rc<RefCell<HeldConn>> {
        let rec = silent_record(&self.s, last_send, self.identity, broker);
        self.previous = Previous::Silent(rec.clone());
        rec
    }

    /// The user leaves: abandoned for good (S17: gone, or a new client in the slot), then
    /// offline. Returns when the user is back, or None for a client that never comes back.
    fn go_offline(&mut self) -> Option<Instant> {
        if self.d.abandons() {
            if !self.p.client.replace_abandoned {
                return None;
            }
            self.identity += 1;
            self.holds_session = false;
            self.had_context = false;
        }
        Some(Instant::now() + self.s.run.opts.scale.real(self.d.offline()))
    }
}

/// The user logs out on `conn`: DISCONNECT (the broker keeps the session for its expiry
/// interval) and the connection closed, recorded in `rec`.
async fn log_out(s: &Shared, mut conn: Conn, rec: &RefCell<HeldConn>) {
    let _ = conn.send(s, &Outgoing::Disconnect).await;
    let mut r = rec.borrow_mut();
    r.state = Held::Closed(epoch_seconds(Instant::now()));
    r.logout = true;
}
