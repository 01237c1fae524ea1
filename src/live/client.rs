//! One virtual client's life against the broker: the simulation's user (periods of use,
//! outages, walking away or logging out, a new Client Identifier, abandonment) played in real
//! time from the same draws, along the same path as the model's `sim/user.rs` and
//! `sim/exchange.rs` under MQTT 5 (no probe after an absence, Session Present = 0 comes with a
//! fresh session, then the subscriptions).

use super::codec::Outgoing;
use super::driver::Attempt;
use super::driver::{
    Conn, Held, HeldConn, Pending, Previous, Shared, connect, epoch_seconds, hold_silent, silent_record, stay_silent,
    subscribe_all, wait,
};
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
}

/// How an online spell ended.
enum Left {
    /// Unreachable for a while (a transport break, a power cycle); back now, with its old
    /// connection if the broker has not closed it.
    Outage(Option<Conn>),
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
    pending: Rc<RefCell<Vec<Pending>>>,
}

/// Client slot `c`'s whole life, until the run ends.
pub(super) async fn life(s: Rc<Shared>, p: Rc<Params>, c: u32, r: Rules, pending: Rc<RefCell<Vec<Pending>>>) {
    let params: &Params = &p;
    let d = ClientDraws::new(params, c);
    let back = s.start + s.opts.scale.real(d.startup());
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
        pending,
    };
    let mut back = Some(back);
    while let Some(at) = back {
        if !wait(&cl.s, at).await {
            return;
        }
        back = cl.period_of_use().await;
    }
}

impl Client<'_> {
    /// The user is back from offline: connect, stay online through outages until the user is
    /// done; returns when the user is back next (None: never, or the run is over).
    async fn period_of_use(&mut self) -> Option<Instant> {
        let use_end = Instant::now() + self.s.opts.scale.real(self.d.session_length());
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
            let conn = self.connect().await?;
            drop(old.take()); // taken over by the new connection
            match self.online(conn, use_end).await {
                Left::Outage(conn) => {
                    old = conn;
                    from_offline = false;
                }
                Left::Offline(back) => return back,
                Left::Stop => return None,
            }
        }
    }

    /// CONNECT (recovering when it holds a session and decides to), recording the attempt, and
    /// the subscriptions when the session is fresh.
    async fn connect(&mut self) -> Option<Conn> {
        let recover = self.holds_session && self.d.recovers();
        let id = wire::client_id(self.c, self.identity);
        let sent = Instant::now();
        if let Previous::Silent(h) = &self.previous {
            let mut h = h.borrow_mut();
            if h.identity == self.identity {
                h.replaced_at = Some(epoch_seconds(sent));
            } else {
                h.orphaned_at = Some(epoch_seconds(sent));
            }
        }
        let (mut conn, present, took) = match connect(&self.s, &id, !recover, self.r.keep_alive, self.r.expiry).await {
            Ok(x) => x,
            Err(e) => {
                self.s.error(format!("client {}: {e}", self.c));
                return None;
            }
        };
        if recover {
            let attempt = Attempt {
                client: self.c,
                sent: self.s.since_start(sent),
                session_present: present,
                predicted: None,
                margin: 0.0,
                latency: took.as_secs_f64(),
            };
            let previous = std::mem::replace(&mut self.previous, Previous::Nothing);
            let new_identifier = self.identifier_changed;
            self.pending.borrow_mut().push(Pending {
                attempt,
                sent_wall: epoch_seconds(sent),
                new_identifier,
                previous,
            });
        }
        self.identifier_changed = false;
        if !present {
            self.s.m.borrow_mut().fresh += 1;
            if let Err(e) = subscribe_all(&self.s, &mut conn, self.c, self.d.rebuild_items(self.identity)).await {
                self.s.error(format!("client {}: {e}", self.c));
                return None;
            }
        }
        self.holds_session = true;
        self.had_context = true;
        Some(conn)
    }

    /// Online: PINGREQs, activity, until an outage or the end of the period of use.
    async fn online(&mut self, mut conn: Conn, use_end: Instant) -> Left {
        let (s, k) = (self.s.clone(), self.s.opts.scale);
        let never = s.end + Duration::from_secs(1);
        let now = Instant::now();
        let [break_at, off_at, mut activity_at] = self.d.plan_online().map(|x| x.map_or(never, |d| now + k.real(d)));
        let mut last_send = Instant::now();
        loop {
            let ping_at = last_send + self.r.ping_every;
            let (at, due) = [
                (use_end, Due::EndOfUse),
                (off_at, Due::DeviceOff),
                (break_at, Due::Break),
                (activity_at, Due::Activity),
                (ping_at, Due::Ping),
            ]
            .into_iter()
            .min_by_key(|(t, _)| *t)
            .expect("five plans");
            // Read while waiting (PINGRESP and the like); a closed connection ends the run's client.
            let fired = tokio::select! {
                ok = wait(&s, at) => ok,
                r = conn.next() => match r {
                    Ok(Some(_)) => continue,
                    _ => {
                        s.error(format!("client {}: the broker closed a live connection", self.c));
                        false
                    }
                },
            };
            if !fired {
                return Left::Stop;
            }
            match due {
                Due::Ping => {
                    if conn.send(&s, &Outgoing::PingReq).await.is_err() {
                        return Left::Stop;
                    }
                    last_send = Instant::now();
                }
                Due::Activity => {
                    let payload = [0u8; wire::PAYLOAD_LEN as usize];
                    let topic = wire::topic(self.c, 99_999);
                    if conn.send(&s, &Outgoing::Publish { topic: &topic, payload: &payload }).await.is_err() {
                        return Left::Stop;
                    }
                    last_send = Instant::now();
                    activity_at = self.d.next_activity().map_or(never, |x| Instant::now() + k.real(x));
                }
                Due::Break | Due::DeviceOff => {
                    // Unreachable for a while: the connection stays open and silent.
                    let len = if due == Due::Break { self.d.break_length() } else { self.d.off_length() };
                    let rec = self.remember_silent(last_send);
                    let back = Instant::now() + k.real(len);
                    let still_open = stay_silent(&s, conn, &rec, back).await;
                    return if wait(&s, back).await { Left::Outage(still_open) } else { Left::Stop };
                }
                Due::EndOfUse => {
                    let rec = self.remember_silent(last_send);
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

    /// The connection last sent on at `last_send` is about to go quiet: record it as the
    /// one the next attempt's prediction rests on.
    fn remember_silent(&mut self, last_send: Instant) -> Rc<RefCell<HeldConn>> {
        let rec = silent_record(&self.s, last_send, self.identity);
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
        Some(Instant::now() + self.s.opts.scale.real(self.d.offline()))
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
