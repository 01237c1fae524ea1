//! A request reaches the SAP: the SAP judges it (a login's verdict: fresh, recovered,
//! continued or 502; any other request against the live session) and does its part now. The
//! client hears the answer half a round trip after the SAP's work ends.

use super::{Observer, Sim};
use crate::engine::time::{SimDuration, after};
use crate::model::client::{State, Step};
use crate::model::context::Gone;
use crate::model::cost::Primitive;
use crate::model::metrics::EndReason;
use crate::model::protocol::Protocol;
use crate::model::sap::{LoginRequest, LoginVerdict, Status};

/// The SAP's verdict on a login carrying a Session-ID, as counted (once per attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Re-established from the retained context (S19).
    Recovered,
    /// The session was still live: continued, and no recovery attempt.
    Continued,
    /// 502 (S20), with its reason.
    Failed(Gone),
}

impl<O: Observer, P: Protocol> Sim<O, P> {
    /// A request reaches the SAP: the SAP decides and does its part now.
    pub(super) fn on_arrival(&mut self, c: usize) {
        let now = self.now;
        let step = self.clients[c].step;
        let sid = self.clients[c].session_id.get();
        let prim = self.primitive(c, step);
        let fire_and_forget = matches!(step, Step::KeepAlive | Step::Activity | Step::Logout);
        // S13: fresh logins and version discovery are outband; a recovery login carries the old Session-ID.
        let inband = match step {
            Step::VersionDiscovery => false,
            Step::Login => self.clients[c].recovering(),
            _ => true,
        };
        if self.sap.is_down(now) {
            self.dropped(c, prim, inband, sid, fire_and_forget);
            return;
        }
        let (status, extra) = match step {
            Step::Probe | Step::KeepAlive | Step::Activity | Step::Service | Step::Capability | Step::Rebuild => {
                (if self.touch(c) { Status::Ok } else { Status::SessionInvalid }, SimDuration::ZERO)
            }
            Step::Logout => {
                let s = self.clients[c].sap;
                if s.live && s.id.get() == sid {
                    self.end_session(c, EndReason::Logout);
                }
                (Status::Ok, SimDuration::ZERO)
            }
            Step::VersionDiscovery => (Status::Ok, SimDuration::ZERO),
            Step::Login => self.login_arrives(c, sid),
        };
        let finish = self.sap.serve(now, prim, extra);
        // The Session-ID the request carried: the old one for a recovery login (S13, S18).
        self.transaction(c, prim, inband, sid, status);
        if fire_and_forget && status == Status::Ok {
            self.after_fire_and_forget(c);
        } else {
            self.respond(c, finish, status);
        }
    }

    /// The primitive a step sends (a rebuild step: the next item of the context, S19).
    fn primitive(&self, c: usize, step: Step) -> Primitive {
        match step {
            Step::Probe | Step::KeepAlive => Primitive::KeepAlive,
            Step::Activity => Primitive::Activity,
            Step::Logout => Primitive::Logout,
            Step::VersionDiscovery => Primitive::VersionDiscovery,
            Step::Login => Primitive::Login,
            Step::Service => Primitive::Service,
            Step::Capability => Primitive::ClientCapability,
            Step::Rebuild => {
                let cl = &self.clients[c];
                cl.shape.rebuild_primitive(cl.rebuild_done as u32)
            }
        }
    }

    /// The SAP is down: the request is lost, and the client times out waiting (a
    /// fire-and-forget request waits for nothing).
    fn dropped(&mut self, c: usize, prim: Primitive, inband: bool, sid: u64, fire_and_forget: bool) {
        self.m.c.dropped += 1;
        self.transaction(c, prim, inband, sid, Status::Dropped);
        if fire_and_forget {
            self.after_fire_and_forget(c);
        } else {
            let t = after(self.clients[c].last_send.get(), self.p.client.request_timeout.0).max(self.now);
            self.clients[c].set_returning_leg(true);
            self.clients[c].status = Status::Timeout;
            self.schedule_client(c, t);
        }
    }

    /// A LoginRequest carrying Session-ID `sid` (0: none) arrives: its status, and the extra
    /// SAP work it costs (re-subscribing a recovered context, S19).
    fn login_arrives(&mut self, c: usize, sid: u64) -> (Status, SimDuration) {
        // The second LoginRequest of a 4-way login (S18), or a retransmission of a login the
        // SAP already answered with a session (the response was late): the same answer again,
        // never a second session nor a second verdict, even if that session has ended meanwhile
        // (the client learns it at its next request). Either is heard, so a live session's
        // auto-logout timer restarts (S10). After a SAP restart the answer is forgotten and the
        // login judged afresh.
        if self.clients[c].login_answered() {
            self.touch(c);
            return (Status::Ok, SimDuration::ZERO);
        }
        let cl = &self.clients[c];
        let verdict = self.sap.judge_login(&LoginRequest {
            session: &cl.sap,
            identity: cl.identity,
            version: cl.version,
            syntax: cl.syntax,
            recover: cl.recovering().then_some(sid),
            retained: cl.retained,
            fate: cl.fate,
            arrival: self.now,
        });
        match verdict {
            LoginVerdict::VersionRejected => (Status::VersionUnsupported, SimDuration::ZERO),
            LoginVerdict::SyntaxRejected => (Status::SyntaxUnsupported, SimDuration::ZERO),
            LoginVerdict::Fresh => {
                self.establish(c, None);
                (Status::Ok, SimDuration::ZERO)
            }
            LoginVerdict::Recovered { store_idx } => {
                let extra = self.sap.resubscribe * self.clients[c].shape.rebuild_items() as u64;
                self.establish(c, Some(store_idx));
                self.recovery_verdict(c, Verdict::Recovered);
                (Status::Ok, extra)
            }
            LoginVerdict::StillLive => {
                self.touch(c);
                self.clients[c].set_login_answered(true);
                self.recovery_verdict(c, Verdict::Continued);
                (Status::Ok, SimDuration::ZERO)
            }
            LoginVerdict::Failed(why) => {
                self.recovery_verdict(c, Verdict::Failed(why));
                if self.proto.fresh_session_on_failed_recovery() {
                    // The answer that says "not recovered" also sets up a fresh session.
                    self.clients[c].set_after_502(true);
                    self.establish(c, None);
                }
                (Status::RecoveryFailed, SimDuration::ZERO)
            }
        }
    }

    /// Count the SAP's verdict on a recovery attempt once, however often the login was retried.
    pub(super) fn recovery_verdict(&mut self, c: usize, verdict: Verdict) {
        let cl = &mut self.clients[c];
        if !matches!(verdict, Verdict::Failed(_)) {
            cl.set_restored(true);
        }
        if !cl.attempt_open() {
            return;
        }
        cl.set_attempt_open(false);
        match verdict {
            // The session never ended: the SAP continues it (S1). Not a recovery attempt.
            Verdict::Continued => {
                cl.set_continued(true);
                self.m.c.continuations += 1;
            }
            Verdict::Recovered => {
                self.m.c.recovery_successes += 1;
                // What the recovery saved against the fresh login it replaces (S19 vs S20).
                let (sx, shape) = (cl.syntax, cl.shape);
                let per = |p: Primitive| self.traffic.bytes(p, sx) as u64;
                let items = shape.rebuild_items() as u64;
                let mut saved = per(Primitive::Service) + per(Primitive::ClientCapability);
                saved += shape.presence as u64 * per(Primitive::SubscribePresence);
                saved += shape.notifications as u64 * per(Primitive::SubscribeNotification);
                saved += shape.groups as u64 * per(Primitive::JoinGroup);
                self.m.c.recovery_bytes_saved += saved;
                self.m.c.recovery_transactions_saved += 2 + items;
            }
            Verdict::Failed(why) => self.m.c.fail[why as usize] += 1,
        }
    }

    pub(super) fn after_fire_and_forget(&mut self, c: usize) {
        if self.clients[c].step == Step::Logout {
            self.go_offline(c);
        } else {
            self.clients[c].state = State::Online;
            self.schedule_online(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict;
    use crate::model::context::Gone;
    use crate::model::{Params, Sim};

    #[test]
    fn each_recovery_attempt_counts_its_verdict_exactly_once() {
        let mut sim = Sim::new(Params { clients: 1, ..Default::default() });
        let open = |sim: &mut Sim| sim.clients[0].set_attempt_open(true);
        open(&mut sim);
        sim.recovery_verdict(0, Verdict::Continued);
        sim.recovery_verdict(0, Verdict::Continued); // a retry's answer: not counted again
        assert_eq!(sim.m.c.continuations, 1);
        assert!(sim.clients[0].continued() && sim.clients[0].restored());
        open(&mut sim);
        sim.recovery_verdict(0, Verdict::Continued);
        assert_eq!(sim.m.c.continuations, 2);
        open(&mut sim);
        sim.recovery_verdict(0, Verdict::Recovered);
        assert_eq!((sim.m.c.recovery_successes, sim.m.c.continuations), (1, 2));
        open(&mut sim);
        sim.clients[0].set_restored(false);
        sim.recovery_verdict(0, Verdict::Failed(Gone::Expired));
        assert!(!sim.clients[0].restored(), "a 502 restores nothing");
        assert_eq!(sim.m.c.fail[Gone::Expired as usize], 1);
        assert_eq!(sim.m.c.recovery_successes + sim.m.c.continuations, 3);
    }
}
