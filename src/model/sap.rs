//! The SAP (Server Access Point): its sessions, its finite capacity, the TimeToLive it
//! grants, what it accepts at login, and its recovery decision. The SAP's record of each
//! client's session (`SapSession`) is stored in that client's slot, beside the client's own
//! state, because nearly every event touches both: one cache miss instead of two.

use super::context::{ContextStore, Gone, NONE};
use super::cost::{Primitive, Syntax};
use super::params::{Params, Span};
use crate::engine::time::{FOREVER, SimDuration, SimTime, after};
use crate::engine::{Time48, U48};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The SAP's view of one client's current session (at most one per client, S15).
/// The granted TimeToLive is the same for every session (one requested TTL, one SAP
/// policy), so it is kept once, by the simulator; the context's size is recomputed
/// from the profile of `identity`. Packed to 2-byte alignment: 26 bytes instead of 28
/// in every client record.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, packed(2))]
pub(crate) struct SapSession {
    pub(crate) id: U48,
    /// Auto-logout fires if no transaction arrives before this time (S10).
    pub(crate) deadline: Time48,
    /// When the SAP will disconnect the session (S8), if it is still live then.
    pub(crate) disconnect_at: Time48,
    /// Bumped at every establishment, so timers of an earlier session are recognised as stale
    /// (16 bits, as events carry it).
    pub(crate) epoch: u16,
    /// Client-ID generation of the session, fixed at establishment.
    pub(crate) identity: u32,
    pub(crate) live: bool,
}

/// Status of a response, as the trace shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// 200: the request succeeded.
    Ok = 0,
    /// The SAP cannot recover the session (S20).
    RecoveryFailed,
    /// Protocol version not supported (S4).
    VersionUnsupported,
    /// Syntax not supported (S4).
    SyntaxUnsupported,
    /// Inband request for a session that is not live.
    SessionInvalid,
    /// The SAP was down (restarting) and never answered.
    Dropped,
    /// The client gave up waiting (a client-side outcome).
    Timeout,
}

impl Status {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Status::Ok => "200",
            Status::RecoveryFailed => "502",
            Status::VersionUnsupported => "505",
            Status::SyntaxUnsupported => "506",
            Status::SessionInvalid => "604",
            Status::Dropped => "dropped",
            Status::Timeout => "timeout",
        }
    }
}

/// A LoginRequest as the SAP judges it (S4, S18, S20).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LoginRequest<'a> {
    /// The SAP's record of the client's session, live or ended.
    pub(crate) session: &'a SapSession,
    /// The Client-ID generation that sends it (S17).
    pub(crate) identity: u32,
    pub(crate) version: u8,
    pub(crate) syntax: Syntax,
    /// The Session-ID carried: a recovery (S18); `None` for a fresh login (S20).
    pub(crate) recover: Option<u64>,
    /// The store index the simulator links to this client (`NONE` if none).
    pub(crate) retained: u32,
    /// Why this client's last context left the store: the 502's reason if nothing is found.
    pub(crate) fate: Gone,
    pub(crate) arrival: SimTime,
}

/// The SAP's answer to the first LoginRequest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginVerdict {
    VersionRejected,
    SyntaxRejected,
    /// A fresh session (no Session-ID given).
    Fresh,
    /// The old session is re-established from the retained context at this store index (S19).
    Recovered {
        store_idx: u32,
    },
    /// The Session-ID names a session that is still live for this client (e.g. a retried login).
    StillLive,
    /// 502 with the reason (S20).
    Failed(Gone),
}

/// The modeled SAP: its workers, the retained-context store, Session-IDs, TTL policy and what it accepts.
pub struct Sap {
    pub(crate) store: ContextStore,
    /// When each busy worker finishes (a min-heap); `idle` workers have nothing to do.
    /// Arrivals come in time order, so workers free by an arrival are alike for every later
    /// one: counting them beats keeping their old finish times in the heap.
    busy: BinaryHeap<Reverse<SimTime>>,
    idle: u32,
    pub(crate) down_until: SimTime,
    next_session_id: u64,
    ttl_min: SimDuration,
    ttl_max: SimDuration,
    /// Per known version index: accepted?
    pub(crate) accepts_version: Vec<bool>,
    accepts_syntax: [bool; 3],
    service: [SimDuration; Primitive::COUNT],
    pub(crate) resubscribe: SimDuration,
}

/// A span as a duration; infinite is `FOREVER`.
pub(crate) fn span_duration(s: Span) -> SimDuration {
    s.duration().unwrap_or(FOREVER)
}

impl Sap {
    /// The SAP of scenario `p`; `known_versions`: every version clients or the SAP name, in version-index order.
    pub fn new(p: &Params, known_versions: &[String]) -> Self {
        let st = &p.sap.service;
        let mut service = [SimDuration::ZERO; Primitive::COUNT];
        for prim in Primitive::ALL {
            service[prim as usize] = match prim {
                Primitive::Login => st.login.0,
                Primitive::KeepAlive => st.keepalive.0,
                Primitive::Logout => st.logout.0,
                Primitive::Disconnect => SimDuration::ZERO,
                Primitive::Service | Primitive::ClientCapability => st.negotiation.0,
                Primitive::SubscribePresence | Primitive::SubscribeNotification | Primitive::JoinGroup => {
                    st.subscribe.0
                }
                Primitive::VersionDiscovery => st.version_discovery.0,
                Primitive::Activity => st.activity.0,
            };
        }
        let mut accepts_syntax = [false; 3];
        for s in &p.sap.syntaxes {
            if let Some(x) = Syntax::from_name(s) {
                accepts_syntax[x as usize] = true;
            }
        }
        Sap {
            store: ContextStore::new(p.store.max_contexts, p.store.max_bytes.0),
            busy: BinaryHeap::with_capacity(p.sap.workers as usize),
            idle: p.sap.workers,
            down_until: SimTime::ZERO,
            next_session_id: 1,
            ttl_min: p.sap.ttl_min.0,
            ttl_max: span_duration(p.sap.ttl_max),
            accepts_version: known_versions.iter().map(|v| p.sap.versions.contains(v)).collect(),
            accepts_syntax,
            service,
            resubscribe: st.resubscribe.0,
        }
    }

    /// The TTL granted for a requested one: clamped to [ttl_min, ttl_max] (S10). Returns the
    /// grant and whether it is below the request (which S10 says SHOULD NOT happen).
    pub(crate) fn grant_ttl(&self, requested: SimDuration) -> (SimDuration, bool) {
        let g = requested.clamp(self.ttl_min, self.ttl_max.max(self.ttl_min));
        (g, g < requested)
    }

    /// S5: a Session-ID never repeats within a run.
    pub(crate) fn new_session_id(&mut self) -> u64 {
        let id = self.next_session_id;
        // Kept in 48 bits (`U48`): 2^48 sessions are beyond any run.
        assert!(id < 1 << 47, "Session-IDs exhausted");
        self.next_session_id += 1;
        id
    }

    pub(crate) fn is_down(&self, t: SimTime) -> bool {
        t < self.down_until
    }

    /// Queue a request arriving at `arrival` needing `extra` work beyond its primitive's
    /// service time; returns when a worker finishes it. First-come first-served over
    /// `workers` identical servers: the request takes the earliest free worker. Arrivals
    /// must come in time order (they do: the SAP acts at `now`).
    pub fn serve(&mut self, arrival: SimTime, p: Primitive, extra: SimDuration) -> SimTime {
        let work = self.service[p as usize] + extra;
        while let Some(&Reverse(done)) = self.busy.peek() {
            if done > arrival {
                break;
            }
            self.busy.pop();
            self.idle += 1;
        }
        if self.idle > 0 {
            self.idle -= 1;
            let done = after(arrival, work);
            self.busy.push(Reverse(done));
            return done;
        }
        match self.busy.peek_mut() {
            None => after(arrival, work), // no workers configured: validated away; answer at once
            Some(mut earliest) => {
                let done = after(earliest.0, work);
                earliest.0 = done;
                done
            }
        }
    }

    /// A restart loses all queued work: workers are free again when the SAP is back.
    pub(crate) fn restart(&mut self, back_at: SimTime) {
        self.down_until = back_at;
        let n = self.busy.len() + self.idle as usize;
        self.busy.clear();
        self.busy.extend((0..n).map(|_| Reverse(back_at)));
        self.idle = 0;
    }

    /// Decide on a LoginRequest (S4, S18, S20).
    pub(crate) fn judge_login(&self, r: &LoginRequest) -> LoginVerdict {
        let LoginRequest { session, identity, version, syntax, recover, retained, fate, arrival } = *r;
        if !self.accepts_version.get(version as usize).copied().unwrap_or(false) {
            return LoginVerdict::VersionRejected;
        }
        if !self.accepts_syntax[syntax as usize] {
            return LoginVerdict::SyntaxRejected;
        }
        let Some(sid) = recover else { return LoginVerdict::Fresh };
        let s = session;
        if s.live && s.id.get() == sid {
            // A live session is only this client's if the Client-ID is the one it was set up with.
            return if s.identity == identity {
                LoginVerdict::StillLive
            } else {
                LoginVerdict::Failed(Gone::ClientChanged)
            };
        }
        if let Some(e) = self.store.get(retained).filter(|e| retained != NONE && e.session_id == sid) {
            if e.identity != identity {
                return LoginVerdict::Failed(Gone::ClientChanged);
            }
            if arrival >= e.expires_at {
                return LoginVerdict::Failed(Gone::Expired);
            }
            return LoginVerdict::Recovered { store_idx: retained };
        }
        LoginVerdict::Failed(fate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{MICROS, MINUTE};

    /// The instant `us` microseconds after the start.
    fn at(us: u64) -> SimTime {
        SimTime::from_micros(us)
    }
    /// `us` microseconds.
    fn d(us: u64) -> SimDuration {
        SimDuration::from_micros(us)
    }

    fn sap(workers: u32) -> Sap {
        let mut p = Params { clients: 2, ..Default::default() };
        p.sap.workers = workers;
        Sap::new(&p, &["1.1".into(), "1.2".into(), "1.3".into()])
    }

    #[test]
    fn ttl_is_clamped_and_reductions_are_flagged() {
        let s = sap(1);
        let m = MINUTE;
        assert_eq!(s.grant_ttl(30 * m), (30 * m, false));
        assert_eq!(s.grant_ttl(MICROS), (m, false), "raised to ttl_min");
        assert_eq!(s.grant_ttl(FOREVER), (60 * m, true), "infinite capped at ttl_max is a reduction");
    }

    #[test]
    fn idle_counting_matches_a_heap_of_every_worker() {
        // The reference: each worker's finish time in a heap; a request takes the earliest.
        let key = crate::engine::RngKey::from_seed(3);
        for workers in [1, 2, 7, 64] {
            let mut s = sap(workers);
            let mut all: BinaryHeap<Reverse<SimTime>> = (0..workers).map(|_| Reverse(at(0))).collect();
            let mut t = 0;
            for n in 0..20_000u64 {
                t += key.draw(workers, 0, n) % 5_000; // bursts and gaps around the 1-4 ms services
                if n % 5_000 == 4_999 {
                    s.restart(at(t + 10_000));
                    all = (0..workers).map(|_| Reverse(at(t + 10_000))).collect();
                }
                // Extra work of 0 to 20 ms: requests also finish out of their arrival order.
                let extra = key.draw(workers, 1, n) % 20_000;
                let mut free = all.peek_mut().unwrap();
                let want = free.0.max(at(t)) + d(4_000 + extra);
                free.0 = want;
                drop(free);
                assert_eq!(s.serve(at(t), Primitive::Login, d(extra)), want, "workers {workers}, request {n}");
            }
        }
    }

    #[test]
    fn workers_serve_first_come_first_served() {
        let mut s = sap(2);
        // Login takes 4ms. Three simultaneous arrivals on two workers: the third waits.
        assert_eq!(s.serve(at(0), Primitive::Login, d(0)), at(4_000));
        assert_eq!(s.serve(at(0), Primitive::Login, d(0)), at(4_000));
        assert_eq!(s.serve(at(0), Primitive::Login, d(0)), at(8_000));
        // An idle gap: the next starts when it arrives.
        assert_eq!(s.serve(at(100_000), Primitive::Login, d(1_000)), at(105_000));
    }

    #[test]
    fn the_sap_is_down_from_a_restart_until_exactly_its_return() {
        let mut s = sap(2);
        assert!(!s.is_down(at(0)));
        s.restart(at(5_000));
        assert!(s.is_down(at(0)));
        assert!(s.is_down(at(4_999)));
        assert!(!s.is_down(at(5_000)), "back at its time: a request arriving then is served");
        assert!(!s.is_down(at(6_000)));
    }

    #[test]
    fn statuses_print_as_their_protocol_codes() {
        let codes: Vec<&str> = [
            Status::Ok,
            Status::RecoveryFailed,
            Status::VersionUnsupported,
            Status::SyntaxUnsupported,
            Status::SessionInvalid,
            Status::Dropped,
            Status::Timeout,
        ]
        .iter()
        .map(|s| s.code())
        .collect();
        assert_eq!(codes, ["200", "502", "505", "506", "604", "dropped", "timeout"]);
    }

    /// S4 first, then S18/S19 (recover the retained context of this Session-ID and Client-ID
    /// while it lasts), else S20 (502 with the recorded reason).
    #[test]
    fn login_verdicts_follow_s4_then_recovery_then_the_502_reason() {
        let mut p = Params { clients: 2, ..Default::default() };
        p.sap.versions = vec!["1.2".into(), "1.3".into()];
        p.sap.syntaxes = vec!["wbxml".into(), "pts".into()];
        let mut s = Sap::new(&p, &["1.1".into(), "1.2".into(), "1.3".into()]);
        let live = |id: u64, identity: u32| SapSession { id: U48::new(id), identity, live: true, ..Default::default() };
        let none = SapSession::default();
        use LoginVerdict::*;
        let (v13, wbxml) = (2, Syntax::Wbxml);
        #[allow(clippy::too_many_arguments)]
        fn req(
            session: &SapSession,
            identity: u32,
            version: u8,
            syntax: Syntax,
            recover: Option<u64>,
            retained: u32,
            fate: Gone,
            arrival: SimTime,
        ) -> LoginRequest<'_> {
            LoginRequest { session, identity, version, syntax, recover, retained, fate, arrival }
        }
        assert_eq!(s.judge_login(&req(&none, 0, 0, wbxml, None, NONE, Gone::Unknown, at(0))), VersionRejected);
        assert_eq!(s.judge_login(&req(&none, 0, 0, Syntax::Xml, None, NONE, Gone::Unknown, at(0))), VersionRejected);
        assert_eq!(s.judge_login(&req(&none, 0, v13, Syntax::Xml, None, NONE, Gone::Unknown, at(0))), SyntaxRejected);
        assert_eq!(s.judge_login(&req(&none, 0, 1, Syntax::Pts, None, NONE, Gone::Unknown, at(0))), Fresh);
        // Refused versions and syntaxes are refused for recovery logins too (S4 before S18).
        assert_eq!(s.judge_login(&req(&live(5, 1), 1, 0, wbxml, Some(5), NONE, Gone::Unknown, at(0))), VersionRejected);

        let judge = |s: &Sap, sess: &SapSession, identity: u32, sid: u64, retained: u32, fate: Gone, t: SimTime| {
            s.judge_login(&req(sess, identity, v13, wbxml, Some(sid), retained, fate, t))
        };
        // The session is still live: continued for its own Client-ID, 502 for another one.
        assert_eq!(judge(&s, &live(5, 1), 1, 5, NONE, Gone::Unknown, at(0)), StillLive);
        assert_eq!(judge(&s, &live(5, 1), 2, 5, NONE, Gone::Unknown, at(0)), Failed(Gone::ClientChanged));
        // A live session answers only for its own Session-ID.
        assert_eq!(judge(&s, &live(5, 1), 1, 4, NONE, Gone::Expired, at(0)), Failed(Gone::Expired));
        // The same Session-ID, no longer live and not retained: the recorded reason.
        let ended = SapSession { live: false, ..live(5, 1) };
        assert_eq!(judge(&s, &ended, 1, 5, NONE, Gone::NotStored, at(0)), Failed(Gone::NotStored));

        // A retained context (Session-ID 7, Client-ID 1) kept until t = 1000.
        let idx = s.store.insert((7, at(1_000), 0, 1, 500));
        assert_eq!(judge(&s, &ended, 1, 7, idx, Gone::Unknown, at(999)), Recovered { store_idx: idx });
        assert_eq!(
            judge(&s, &ended, 1, 7, idx, Gone::Unknown, at(1_000)),
            Failed(Gone::Expired),
            "expired at its time"
        );
        assert_eq!(judge(&s, &ended, 2, 7, idx, Gone::Unknown, at(999)), Failed(Gone::ClientChanged));
        // The link names a context of another Session-ID: not this session's, so the reason stands.
        assert_eq!(judge(&s, &ended, 1, 8, idx, Gone::Replaced, at(999)), Failed(Gone::Replaced));
        assert_eq!(judge(&s, &ended, 1, 7, NONE, Gone::Evicted, at(999)), Failed(Gone::Evicted));
    }
}
