//! The user's behaviour, which no protocol event changes: periods of use (only the user
//! starts and ends one), transport breaks and device power cycles (S1, S2), walking away or
//! logging out (S6), coming back under a new Client-ID or abandoning the client (S17).

use super::{Observer, Sim};
use crate::engine::time::after;
use crate::engine::{Time48, U48};
use crate::model::client::{Purpose, State, Step};
use crate::model::dist::DurationDist;
use crate::model::params::Params;
use crate::model::protocol::Protocol;

impl<O: Observer, P: Protocol> Sim<O, P> {
    /// The client is reachable again, or its user is back.
    pub(super) fn come_back(&mut self, c: usize, from_offline: bool) {
        let now = self.now;
        if from_offline {
            // The user starts a period of use: only the user ends it (`online_due`).
            let end = self.draw_after(c, Purpose::Behaviour, |p| Some(&p.client.session_length));
            self.clients[c].use_end = Time48::new(end);
        } else if self.heard_disconnect(c) {
            return;
        } else if self.use_over(c) {
            // The period of use ended while the client was unreachable: the user is done.
            self.end_of_use(c);
            return;
        }
        // A Disconnect that came while a Logout was in flight asked a user who has since left.
        self.clients[c].set_relogin_asked(false);
        if from_offline && self.clients[c].had_context() {
            // S17: the client may come back under another Client-ID, still holding the old Session-ID.
            if self.u(c, Purpose::Decision) < self.p.client.client_id_change_prob {
                // A new Client-ID cannot continue the old session; it can only try to recover it.
                self.clients[c].set_believes_live(false);
                self.clients[c].identity += 1;
                self.m.c.client_id_changes += 1;
                self.load_profile(c);
            }
        }
        let cl = &mut self.clients[c];
        cl.restore_start = Time48::new(now);
        let may_be_live = cl.session_id.get() != 0 && cl.believes_live() && now < after(cl.last_send.get(), self.ttl);
        if may_be_live && self.proto.probes_after_outage() {
            // S1, S2: the session may have survived; a KeepAlive tells.
            self.send(c, now, Step::Probe);
        } else {
            self.login_or_recover(c);
        }
    }

    /// The user's period of use is over (a client can only notice it when it acts).
    #[inline]
    pub(super) fn use_over(&self, c: usize) -> bool {
        self.now >= self.clients[c].use_end.get()
    }

    /// The online timer fired: do whichever of its plans is due.
    pub(super) fn online_due(&mut self, c: usize) {
        let now = self.now;
        let cl = &self.clients[c];
        if now >= cl.use_end.get() {
            self.end_of_use(c);
        } else if now >= cl.next_off.get() {
            self.m.c.device_offs += 1;
            self.outage(c, |p| Some(&p.device_off.duration));
        } else if now >= cl.next_break.get() {
            self.m.c.transport_breaks += 1;
            self.outage(c, |p| Some(&p.transport_break.duration));
        } else if now >= cl.next_activity.get() {
            let next = self.draw_after(c, Purpose::Behaviour, |p| p.client.activity.0.as_ref());
            self.clients[c].next_activity = Time48::new(next);
            self.send(c, now, Step::Activity);
        } else {
            self.send(c, now, Step::KeepAlive); // S10: in time, before the TTL runs out
        }
    }

    /// S1, S2: the client is unreachable for a while; the SAP does not know.
    pub(super) fn outage(&mut self, c: usize, duration: fn(&Params) -> Option<&DurationDist>) {
        let back = self.draw_after(c, Purpose::Behaviour, duration);
        self.clients[c].state = State::Outage;
        self.schedule_client(c, back);
    }

    /// The user's period of use is over: Logout (S6), or walk away and let auto-logout end it.
    pub(super) fn end_of_use(&mut self, c: usize) {
        if self.u(c, Purpose::Decision) < self.p.client.logout_prob {
            self.clients[c].set_believes_live(false);
            self.send(c, self.now, Step::Logout);
        } else {
            self.go_offline(c);
        }
    }

    pub(super) fn go_offline(&mut self, c: usize) {
        if self.u(c, Purpose::Decision) < self.p.client.abandon_prob {
            // S17: this user never comes back to this client.
            self.m.c.abandoned += 1;
            if !self.p.client.replace_abandoned {
                self.clients[c].state = State::Dormant;
                self.clients[c].timer_gen = self.clients[c].timer_gen.wrapping_add(1);
                return;
            }
            // A new client (new Client-ID, no Session-ID) takes the slot.
            let cl = &mut self.clients[c];
            cl.identity += 1;
            cl.session_id = U48::new(0);
            cl.set_believes_live(false);
            cl.set_had_context(false);
            cl.set_set_up_before(false);
            self.load_profile(c);
        }
        let back = self.draw_after(c, Purpose::Behaviour, |p| Some(&p.client.offline));
        self.clients[c].state = State::Offline;
        self.schedule_client(c, back);
    }
}
