//! The SAP's side of a session's life: set-up (fresh or re-established from a retained
//! context), the auto-logout timer (S10), the SAP-initiated Disconnect (S8), a SAP restart,
//! and the end of a session, which hands its context to the retention policy (S16).

use super::event::Event;
use super::{Observer, Sim};
use crate::engine::time::{NEVER, SimDuration, after};
use crate::engine::{Time48, U48};
use crate::model::client::{Purpose, State};
use crate::model::context::{Gone, NONE};
use crate::model::cost::Primitive;
use crate::model::metrics::EndReason;
use crate::model::protocol::Protocol;
use crate::model::sap::Status;

impl<O: Observer, P: Protocol> Sim<O, P> {
    /// Set up a session for client `c` at the SAP (fresh, or re-established from a retained
    /// context), arm its auto-logout (S10) and its SAP-initiated disconnect (S8).
    pub(super) fn establish(&mut self, c: usize, recovered_from: Option<u32>) {
        let now = self.now;
        let sid = match recovered_from {
            Some(idx) => {
                let e = self.sap.store.remove(idx);
                self.clients[c].retained = NONE;
                self.m.c.sessions_recovered += 1;
                // S19: the SAP redoes what the context needs (re-subscriptions, group joins).
                self.m.c.resubscriptions += self.clients[c].shape.rebuild_items() as u64;
                e.session_id
            }
            None => {
                if self.clients[c].sap.live {
                    self.end_session(c, EndReason::Relogin);
                }
                self.replace_retained(c);
                // Each kind is counted for the session the SAP sets up, once: a session that ends
                // before its client is online (a Disconnect during the rebuild) leaves its login
                // counted, and the next login is of no kind until a 502 or a discovery says so.
                let cl = &mut self.clients[c];
                let kind_502 = cl.after_502();
                let initial = !cl.had_context() && !cl.set_up_before();
                let after_vd = cl.after_discovery();
                cl.set_after_502(false);
                cl.set_after_discovery(false);
                cl.set_set_up_before(true);
                self.m.c.logins_fresh += 1;
                self.m.c.contexts_created += 1;
                if kind_502 {
                    self.m.c.logins_after_502 += 1;
                }
                if initial {
                    self.m.c.logins_initial += 1;
                }
                if after_vd {
                    self.m.c.logins_after_version_discovery += 1;
                }
                self.sap.new_session_id()
            }
        };
        let ttl = self.timeout;
        if self.ttl_reduced {
            self.m.c.ttl_reduced += 1;
        }
        let identity = self.clients[c].identity;
        let bytes = self.context_bytes(c, identity);
        let s = &mut self.clients[c].sap;
        s.live = true;
        s.id = U48::new(sid);
        s.deadline = Time48::new(self.proto.session_deadline(now, ttl));
        s.epoch = s.epoch.wrapping_add(1);
        s.identity = identity;
        let (epoch, deadline) = (s.epoch, s.deadline.get());
        let cl = &mut self.clients[c];
        cl.session_id = U48::new(sid);
        cl.set_login_answered(true);
        cl.set_relogin_asked(false);
        self.live += 1;
        self.active_bytes += bytes as u64; // S9: the SAP holds a live session's context too.
        if deadline != NEVER {
            self.push(deadline, Event::auto_logout(c as u32, epoch));
        }
        // S8's Disconnect is drawn now but only scheduled once the auto-logout check before
        // it has passed (see `on_auto_logout`): most sessions end well before it, and a day
        // of pending timers for ended sessions would be most of the event set.
        let at = self.draw_after(c, Purpose::SapDisconnect, |p| p.sap.disconnect_every.0.as_ref());
        self.clients[c].sap.disconnect_at = Time48::new(at);
        if at <= deadline {
            self.push(at, Event::disconnect(c as u32, epoch));
        }
        self.update_gauges();
    }

    /// End client `c`'s session at the SAP (S6) and keep or drop its context (S16).
    pub(super) fn end_session(&mut self, c: usize, reason: EndReason) {
        let s = &mut self.clients[c].sap;
        debug_assert!(s.live);
        s.live = false;
        let (sid, identity) = (s.id.get(), s.identity);
        let bytes = self.context_bytes(c, identity);
        self.live -= 1;
        self.active_bytes -= bytes as u64;
        self.m.c.ended[reason as usize] += 1;
        // Err: the context is gone, and why; Ok: kept for that long (None: until replaced).
        let kept: Result<Option<SimDuration>, Gone> = match reason {
            // The same client logging in afresh replaces its context (S16); a new Client-ID is
            // another client, so the old one's context is retained, orphaned (S17).
            EndReason::Relogin if identity == self.clients[c].identity => Err(Gone::Replaced),
            EndReason::Restart if !self.p.sap.restart_keeps_retained => Err(Gone::Restart),
            EndReason::Logout if !self.p.store.keep_on_logout => Err(Gone::NotStored),
            // S8: a session the SAP disconnected is held for the re-login it asked for, for its
            // grace period or the retention period if longer, whatever the retention.
            EndReason::SapDisconnect if self.p.sap.reestablish_after_disconnect => {
                Ok(self.retention.map(|r| r.max(self.p.sap.reestablish_within.0)))
            }
            _ if self.retention == Some(SimDuration::ZERO) => Err(Gone::NotStored),
            _ => Ok(self.retention),
        };
        match kept {
            Err(g) => {
                self.m.c.gone[g as usize] += 1;
                self.clients[c].fate = g;
            }
            Ok(hold) => self.retain(c, sid, identity, bytes, hold),
        }
        self.update_gauges();
    }

    /// Record a transaction's arrival in its session: true if the session is live, in which
    /// case the auto-logout deadline moves (S10).
    pub(super) fn touch(&mut self, c: usize) -> bool {
        let now = self.now;
        let (sid, identity) = (self.clients[c].session_id.get(), self.clients[c].identity);
        let s = &mut self.clients[c].sap;
        if s.live && s.id.get() == sid && s.identity == identity && now < s.deadline.get() {
            s.deadline = Time48::new(self.proto.session_deadline(now, self.timeout));
            true
        } else {
            false
        }
    }

    pub(super) fn on_auto_logout(&mut self, c: usize, epoch: u16) {
        let s = self.clients[c].sap;
        if !s.live || s.epoch != epoch {
            return;
        }
        self.m.c.events += 1;
        if s.deadline.get() <= self.now {
            self.end_session(c, EndReason::AutoLogout);
        } else {
            // A transaction arrived meanwhile: look again at the new deadline, and schedule
            // the Disconnect if it falls before that look.
            let deadline = s.deadline.get();
            self.push(deadline, Event::auto_logout(c as u32, epoch));
            let at = s.disconnect_at.get();
            if self.now < at && at <= deadline {
                self.push(at, Event::disconnect(c as u32, epoch));
            }
        }
    }

    /// S8: the SAP disconnects a session; a reachable client hears of it and logs in again
    /// with its old Session-ID after a delay.
    pub(super) fn on_disconnect(&mut self, c: usize, epoch: u16) {
        let s = self.clients[c].sap;
        if !s.live || s.epoch != epoch {
            return;
        }
        self.m.c.events += 1;
        self.end_session(c, EndReason::SapDisconnect);
        // In the syntax of the session's own login (S3), which an earlier Client-ID chose.
        let syntax =
            if s.identity == self.clients[c].identity { self.clients[c].syntax } else { self.profile(c, s.identity).2 };
        self.transaction_in(syntax, c, Primitive::Disconnect, true, s.id.get(), Status::Ok);
        // The client reacts the same way in every state, as soon as it can hear it: online at
        // once (half a round trip later), in an exchange when it ends, in an outage when the
        // client is reachable again. A user who is away logs in again on coming back. A session
        // of an earlier Client-ID (S17) has no one left to tell: the slot's client is another.
        let cl = &mut self.clients[c];
        if cl.identity != s.identity {
            return;
        }
        cl.set_believes_live(false);
        match cl.state {
            State::Online => {
                let way = self.draw(c, Purpose::Network, |p| &p.network.rtt) / 2;
                self.wait_relogin(c, after(self.now, way));
            }
            State::Exchange | State::Outage => cl.set_relogin_asked(true),
            State::Offline | State::WaitRelogin | State::Dormant => {}
        }
    }

    pub(super) fn on_restart(&mut self) {
        self.m.c.events += 1;
        self.m.c.restarts += 1;
        let back = after(self.now, self.p.sap.restart_downtime.0);
        self.sap.restart(back);
        for c in 0..self.clients.len() {
            if self.clients[c].sap.live {
                self.end_session(c, EndReason::Restart);
            }
            // The restarted SAP remembers no answer: a retransmitted login is judged afresh, a
            // new attempt with a verdict of its own.
            let cl = &mut self.clients[c];
            if cl.login_answered() {
                cl.set_login_answered(false);
                cl.set_attempt_open(cl.recovering());
                cl.set_restored(false);
                cl.set_continued(false);
            }
            // Clients whose transport the restart reset notice at once, all together: the storm.
            if self.clients[c].state == State::Online && self.p.sap.restart_detect.0.is_some() {
                let delay = self.draw_after(c, Purpose::Behaviour, |p| p.sap.restart_detect.0.as_ref()) - self.now;
                let cl = &mut self.clients[c];
                cl.set_believes_live(false);
                cl.state = State::WaitRelogin;
                self.schedule_client(c, after(back, delay));
            }
        }
        if !self.p.sap.restart_keeps_retained {
            for idx in self.sap.store.indices() {
                let e = self.sap.store.remove(idx);
                self.forget(e.client as usize, idx, Gone::Restart);
            }
        }
        self.update_gauges();
    }
}
