//! The client's protocol state machine: log in (2-way or 4-way), recover with the old
//! Session-ID or log in afresh after a 502 (S18, S20), negotiate and rebuild the context
//! (S12, S19), keep the session alive (S10), retry on timeout, react to a Disconnect (S8), to
//! a 604 and to a refused version (S7) or syntax (S4).

use super::{Observer, Sim};
use crate::engine::time::{SimDuration, SimTime, after};
use crate::engine::{Time48, U48};
use crate::model::client::{Purpose, State, Step};
use crate::model::protocol::Protocol;
use crate::model::sap::Status;

impl<O: Observer, P: Protocol> Sim<O, P> {
    pub(super) fn on_client(&mut self, c: usize) {
        match self.clients[c].state {
            State::Offline => self.come_back(c, true),
            State::Outage => self.come_back(c, false),
            State::WaitRelogin if self.use_over(c) => self.go_offline(c),
            State::WaitRelogin => {
                self.clients[c].restore_start = Time48::new(self.now);
                self.login_or_recover(c);
            }
            State::Online => self.online_due(c),
            State::Exchange => {
                if self.clients[c].returning_leg() {
                    self.on_response(c)
                } else {
                    self.on_arrival(c)
                }
            }
            State::Dormant => {}
        }
    }

    pub(super) fn login_or_recover(&mut self, c: usize) {
        let recover =
            self.clients[c].session_id.get() != 0 && self.u(c, Purpose::Decision) < self.p.client.recover_prob;
        self.start_login(c, recover);
    }

    /// S18: recovery is a normal login carrying the old Session-ID; a fresh login carries none (S20).
    pub(super) fn start_login(&mut self, c: usize, recover: bool) {
        let remember = self.p.client.remember_version;
        let cl = &mut self.clients[c];
        if !remember {
            cl.version = cl.preferred_version;
        }
        cl.set_recovering(recover);
        cl.set_attempt_open(recover);
        cl.set_restored(false);
        cl.set_continued(false);
        cl.set_login_answered(false);
        cl.set_second_round(false);
        if !recover {
            cl.session_id = U48::new(0);
            cl.set_believes_live(false);
        }
        self.send(c, self.now, Step::Login);
    }

    /// Send the request of `step` at time `t`; it reaches the SAP half a round trip later.
    pub(super) fn send(&mut self, c: usize, t: SimTime, step: Step) {
        let rtt = self.draw(c, Purpose::Network, |p| &p.network.rtt);
        let out = rtt / 2;
        let cl = &mut self.clients[c];
        cl.state = State::Exchange;
        cl.step = step;
        cl.set_returning_leg(false);
        cl.last_send = Time48::new(t);
        cl.back_delay = (rtt - out).as_micros().min(u32::MAX as u64) as u32;
        self.schedule_client(c, after(t, out));
    }

    /// The response (or a timeout) will reach the client.
    pub(super) fn respond(&mut self, c: usize, finish: SimTime, status: Status) {
        let timeout = self.p.client.request_timeout.0;
        let cl = &mut self.clients[c];
        let back = after(finish, SimDuration::from_micros(cl.back_delay as u64));
        // A client whose one-way delay alone exceeds its timeout gave up before the request
        // arrived; its retry cannot come before this arrival is handled.
        let (at, status) = if back - cl.last_send.get() > timeout {
            (after(cl.last_send.get(), timeout).max(self.now), Status::Timeout)
        } else {
            (back, status)
        };
        cl.set_returning_leg(true);
        cl.status = status;
        self.schedule_client(c, at);
    }

    /// The response (or timeout) reaches the client.
    pub(super) fn on_response(&mut self, c: usize) {
        let now = self.now;
        let status = self.clients[c].status;
        let step = self.clients[c].step;
        // S8: a Disconnect during this exchange comes first, whatever the response.
        if self.heard_disconnect(c) {
            return;
        }
        if status == Status::Timeout {
            let cl = &mut self.clients[c];
            cl.retries = cl.retries.saturating_add(1);
            self.m.c.retries += 1;
            let shift = (cl.retries - 1).min(30) as u32;
            let backoff =
                self.p.client.retry_backoff.0.saturating_mul(1 << shift).min(self.p.client.retry_backoff_max.0);
            self.send(c, after(now, backoff), step);
            return;
        }
        self.clients[c].retries = 0;
        match status {
            Status::Ok => self.on_ok(c, step),
            Status::RecoveryFailed if self.proto.fresh_session_on_failed_recovery() => {
                // Not recovered, but a fresh session is up: rebuild the context into it.
                self.clients[c].rebuild_done = 0;
                self.rebuild_or_online(c);
            }
            Status::RecoveryFailed => {
                // S20: not logged in; log in again without the Session-ID, unless the user is done.
                if self.use_over(c) {
                    self.clients[c].session_id = U48::new(0);
                    self.go_offline(c);
                } else {
                    self.clients[c].set_after_502(true);
                    self.start_login(c, false);
                }
            }
            Status::VersionUnsupported => {
                if self.p.client.version_discovery {
                    self.send(c, now, Step::VersionDiscovery); // S7
                } else {
                    self.deny(c);
                }
            }
            Status::SyntaxUnsupported => self.deny(c),
            // Dropped and Timeout never reach here: a dropped request times out (above).
            Status::SessionInvalid | Status::Dropped | Status::Timeout => {
                // 604: the session is gone. A client that was using it comes back now, unless
                // its user is done.
                let cl = &mut self.clients[c];
                cl.set_believes_live(false);
                if matches!(step, Step::KeepAlive | Step::Activity) {
                    cl.restore_start = Time48::new(now);
                }
                if self.use_over(c) {
                    self.go_offline(c);
                } else {
                    self.login_or_recover(c);
                }
            }
        }
    }

    /// A 200 reaches the client: the next step of its login, negotiation or rebuild (S12,
    /// S18, S19), or online.
    fn on_ok(&mut self, c: usize, step: Step) {
        let now = self.now;
        match step {
            Step::Probe => {
                self.m.c.continuations += 1;
                self.go_online(c);
            }
            Step::VersionDiscovery => self.after_discovery(c),
            Step::Login => {
                let cl = &self.clients[c];
                if cl.four_way() && !cl.second_round() {
                    // 4-way access control: a second LoginRequest answers the challenge (S18).
                    self.clients[c].set_second_round(true);
                    self.send(c, now, Step::Login);
                } else if cl.restored() {
                    // A continuation restored nothing: only a recovery is timed as one.
                    if !cl.continued() {
                        self.record_restore(c, true);
                    }
                    self.go_online(c);
                } else if self.proto.negotiates_after_login() {
                    self.send(c, now, Step::Service); // S12
                } else {
                    self.clients[c].rebuild_done = 0;
                    self.rebuild_or_online(c);
                }
            }
            Step::Service => self.send(c, now, Step::Capability),
            Step::Capability | Step::Rebuild => {
                let cl = &mut self.clients[c];
                if step == Step::Rebuild {
                    cl.rebuild_done += 1;
                } else {
                    cl.rebuild_done = 0;
                }
                self.rebuild_or_online(c);
            }
            Step::KeepAlive | Step::Activity | Step::Logout => {
                unreachable!("fire-and-forget requests have no success response")
            }
        }
    }

    /// S19: the next item of the context to rebuild (a subscription, a group), or online
    /// when all are done.
    fn rebuild_or_online(&mut self, c: usize) {
        let cl = &self.clients[c];
        if (cl.rebuild_done as u32) < cl.shape.rebuild_items() {
            self.send(c, self.now, Step::Rebuild);
        } else {
            self.record_restore(c, false);
            self.go_online(c);
        }
    }

    /// S8: a Disconnect came while the client could not hear it (an exchange, an outage); it
    /// acts on it now, as an online client does. Returns whether it did.
    pub(super) fn heard_disconnect(&mut self, c: usize) -> bool {
        let cl = &mut self.clients[c];
        if !cl.relogin_asked() {
            return false;
        }
        cl.set_relogin_asked(false);
        cl.retries = 0;
        self.wait_relogin(c, self.now);
        true
    }

    /// S8: log in again (with the old Session-ID) `relogin_delay` after hearing at `heard`
    /// that the SAP disconnected the session, whatever the client was doing when it came.
    pub(super) fn wait_relogin(&mut self, c: usize, heard: SimTime) {
        let delay = self.draw(c, Purpose::Behaviour, |p| &p.client.relogin_delay);
        let cl = &mut self.clients[c];
        cl.set_believes_live(false);
        cl.state = State::WaitRelogin;
        self.schedule_client(c, after(heard, delay));
    }

    /// S7: pick the highest version both sides support and log in again with it.
    pub(super) fn after_discovery(&mut self, c: usize) {
        let preferred = self.clients[c].version as usize;
        match (0..=preferred).rev().find(|&v| self.sap.accepts_version[v]) {
            Some(v) => {
                let cl = &mut self.clients[c];
                cl.version = v as u8;
                cl.set_after_discovery(true);
                cl.set_second_round(false);
                self.send(c, self.now, Step::Login);
            }
            None => self.deny(c),
        }
    }

    /// S4: the SAP refuses this client's version or syntax for good.
    pub(super) fn deny(&mut self, c: usize) {
        self.m.c.logins_denied += 1;
        self.clients[c].state = State::Dormant;
        self.clients[c].timer_gen = self.clients[c].timer_gen.wrapping_add(1);
    }

    pub(super) fn record_restore(&mut self, c: usize, recovered: bool) {
        let cl = &self.clients[c];
        if !cl.had_context() {
            return; // a first login restores nothing
        }
        let d = self.now - cl.restore_start.get();
        let h = if recovered { &mut self.m.restore_recovered } else { &mut self.m.restore_fresh };
        h.saturating_record(d.as_micros().max(1));
    }

    /// The session is up on the client's side (a login, a recovery or a continuation): plan
    /// the next KeepAlive, activity and outages. The user's period of use goes on unchanged.
    pub(super) fn go_online(&mut self, c: usize) {
        let next_break = self.draw_after(c, Purpose::Behaviour, |p| p.transport_break.every.0.as_ref());
        let next_off = self.draw_after(c, Purpose::Behaviour, |p| p.device_off.every.0.as_ref());
        let next_activity = self.draw_after(c, Purpose::Behaviour, |p| p.client.activity.0.as_ref());
        let cl = &mut self.clients[c];
        cl.state = State::Online;
        cl.set_believes_live(true);
        cl.set_had_context(true);
        cl.set_after_502(false);
        cl.set_after_discovery(false);
        cl.next_break = Time48::new(next_break);
        cl.next_off = Time48::new(next_off);
        cl.next_activity = Time48::new(next_activity);
        self.schedule_online(c);
    }

    pub(super) fn next_keepalive(&self, c: usize) -> SimTime {
        // From the granted TTL (S10), which the client learnt at login: the same for every session.
        after(self.clients[c].last_send.get(), self.keepalive_every)
    }

    pub(super) fn schedule_online(&mut self, c: usize) {
        let ka = self.next_keepalive(c);
        let cl = &self.clients[c];
        let t = ka.min(cl.next_activity.get()).min(cl.next_break.get()).min(cl.next_off.get()).min(cl.use_end.get());
        self.schedule_client(c, t.max(self.now));
    }
}
