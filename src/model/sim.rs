//! The simulation: the IMPS world driven by the event engine. Each event names a client
//! (or a retained context, or the SAP) and is dispatched to the handler of the protocol step
//! it stands for. A request's effect on the SAP happens when it *arrives* (send time plus
//! half the round trip); the client reacts when the response (or its timeout) reaches it.

use super::client::{Client, Purpose, State, Step};
use super::context::{Gone, NONE};
use super::cost::{ContextShape, Primitive, Syntax, TrafficCost};
use super::dist::{CountDist, Dist, DurationDist};
use super::metrics::{EndReason, Metrics, Sample};
use super::params::{Params, ReplaceScope};
use super::sap::{LoginVerdict, Sap, Status, span_us};
use crate::engine::time::{NEVER, SimTime, after};
use crate::engine::{EventQueue, RngKey, U48};

/// One transaction as the SAP sees it: the load-generator view (`--trace`).
#[derive(Clone, Debug, PartialEq)]
pub struct Transaction {
    pub time: SimTime,
    pub client: u32,
    /// 0 when the transaction carries no Session-ID (outband, S13).
    pub session_id: u64,
    pub primitive: Primitive,
    pub inband: bool,
    pub bytes: u32,
    pub status: Status,
}

/// Receives every transaction; `()` ignores them at no cost.
pub trait Observer {
    fn transaction(&mut self, tx: &Transaction);
}
impl Observer for () {
    #[inline]
    fn transaction(&mut self, _: &Transaction) {}
}
impl Observer for Vec<Transaction> {
    fn transaction(&mut self, tx: &Transaction) {
        self.push(tx.clone());
    }
}

// Event kinds, in the order simultaneous events are handled. The warm-up ends before anything
// else at its instant (which is measured); retention expiry and auto-logout come before client
// events, so a request arriving exactly at a deadline finds it passed.
const K_WARMUP_END: u64 = 0;
const K_SAMPLE: u64 = 1;
const K_RESTART: u64 = 2;
const K_EXPIRY: u64 = 3;
const K_AUTO_LOGOUT: u64 = 4;
const K_DISCONNECT: u64 = 5;
const K_CLIENT: u64 = 6;
/// Event payloads (48 bits, see `EventQueue`): kind (3 bits), then a client slot or store
/// index (29 bits: hence the limit on clients), then 16 bits of a timer generation or session
/// epoch. A stale timer is mistaken for the current one only if its client rescheduled a
/// multiple of 65,536 times while it waited.
pub const MAX_CLIENTS: u32 = 1 << 29;
/// How many events ahead the client record is prefetched: far enough to hide a memory
/// access (~100 ns) behind the events handled meanwhile.
const PREFETCH_DISTANCE: usize = 12;

#[inline]
fn event(kind: u64, a: u32, b: u16) -> u64 {
    debug_assert!(a < MAX_CLIENTS);
    (kind << 45) | ((a as u64) << 16) | b as u64
}

/// The (kind, entity, generation) an `event` payload packs.
#[inline]
fn decode(payload: u64) -> (u64, u32, u16) {
    (payload >> 45, (payload >> 16) as u32 & (MAX_CLIENTS - 1), payload as u16)
}

/// The SAP's verdict on a login carrying a Session-ID, as counted (once per attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Re-established from the retained context (S19).
    Recovered,
    /// The session was still live: continued, and no recovery attempt.
    Continued,
    /// 502 (S20), with its reason.
    Failed(Gone),
}

/// Stream purposes not tied to a client's counters.
const P_USERS: u32 = 18;

/// What a run produced.
pub struct Outcome {
    pub metrics: Metrics,
    pub end: SimTime,
    pub census: Census,
    /// Set when simulated time stopped advancing (a zero-delay loop in the scenario): the run
    /// was cut short at this time and its numbers must not be used.
    pub stalled_at: Option<SimTime>,
}

/// Where every session and context stands at the end: the conservation laws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Census {
    pub sessions_established: u64,
    pub sessions_ended: u64,
    pub sessions_live: u64,
    pub contexts_created: u64,
    pub contexts_live: u64,
    pub contexts_retained: u64,
    pub contexts_gone: u64,
    pub retained_bytes: u64,
}

pub struct Sim<O: Observer = ()> {
    p: Params,
    key: RngKey,
    q: EventQueue,
    now: SimTime,
    end: SimTime,
    clients: Vec<Client>,
    /// Slots of user u are user_first[u]..user_first[u+1] (empty unless the replace scope is `user`).
    user_first: Vec<u32>,
    sap: Sap,
    m: Metrics,
    obs: O,
    version_weights: Vec<f64>,
    syntax_weights: [f64; 3],
    traffic: TrafficCost,
    retention: Option<u64>,
    /// The TimeToLive the SAP grants every session (S10): one request, one policy; and whether
    /// it is less than the client asked for.
    ttl: u64,
    ttl_reduced: bool,
    live: u64,
    active_bytes: u64,
}

/// Pick an index from weights (not necessarily normalised) with uniform `u`.
fn pick(weights: &[f64], u: f64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = u * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// Versions sort by their numeric parts ("1.10" after "1.9").
fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|x| x.parse().unwrap_or(0)).collect()
}

impl Sim<()> {
    pub fn new(p: Params) -> Self {
        Sim::with_observer(p, ())
    }
}

impl<O: Observer> Sim<O> {
    pub fn with_observer(p: Params, obs: O) -> Self {
        let key = RngKey::from_seed(p.seed);
        let mut versions: Vec<String> = p.client.versions.keys().chain(p.sap.versions.iter()).cloned().collect();
        versions.sort_by_key(|v| version_key(v));
        versions.dedup();
        let version_weights = versions.iter().map(|v| p.client.versions.get(v).copied().unwrap_or(0.0)).collect();
        let mut syntax_weights = [0.0; 3];
        for s in Syntax::ALL {
            syntax_weights[s as usize] = p.client.syntaxes.get(s.name()).copied().unwrap_or(0.0);
        }
        let n = p.clients as usize;
        let mut clients = crate::engine::memory::huge_vec(n);
        clients.resize(n, Client::new());
        // Which slots belong to which user matters only to the `user` replace scope.
        let mut user_first = Vec::new();
        if p.store.replace_scope == ReplaceScope::User {
            let (mut first, mut user) = (0usize, 0u32);
            while first < n {
                user_first.push(first as u32);
                first += pick(&p.users.devices, key.uniform(user, P_USERS, 0)) + 1;
                user += 1;
            }
            user_first.push(n as u32);
        }
        let sap = Sap::new(&p, &versions);
        let (ttl, ttl_reduced) = sap.grant_ttl(span_us(p.client.requested_ttl));
        Sim {
            key,
            q: EventQueue::with_capacity(n * 3 + 16),
            now: 0,
            end: p.duration.0,
            clients,
            user_first,
            sap,
            m: Metrics::default(),
            obs,
            version_weights,
            syntax_weights,
            traffic: TrafficCost::new(&p.cost.messages),
            retention: p.retention.micros(),
            ttl,
            ttl_reduced,
            live: 0,
            active_bytes: 0,
            p,
        }
    }

    /// Run to the end and return what was measured.
    pub fn run(mut self) -> (Outcome, O) {
        self.start();
        // No scenario needs more events at one instant than this; more means time has stopped.
        let stall_limit = 1_000_000 + 1_000 * self.clients.len() as u64;
        let mut same_instant = 0u64;
        let mut stalled_at = None;
        while let Some((t, payload)) = self.q.pop() {
            if t > self.end {
                break;
            }
            if t == self.now {
                same_instant += 1;
                if same_instant > stall_limit {
                    stalled_at = Some(t);
                    break;
                }
            } else {
                same_instant = 0;
            }
            self.now = t;
            self.m.c.popped += 1;
            if let Some(ahead) = self.q.upcoming(PREFETCH_DISTANCE) {
                self.prefetch(ahead);
            }
            self.dispatch(payload);
        }
        let (mut outcome, obs) = self.finish();
        outcome.stalled_at = stalled_at;
        (outcome, obs)
    }

    fn start(&mut self) {
        for c in 0..self.clients.len() {
            self.load_profile(c);
            let t = self.p.startup.sample_us(self.key.uniform(c as u32, Purpose::Startup as u32, 0));
            self.schedule_client(c, t);
        }
        self.q.push(0, event(K_SAMPLE, 0, 0));
        if self.p.warmup.0 > 0 {
            self.push(self.p.warmup.0, event(K_WARMUP_END, 0, 0));
        }
        for (i, t) in self.p.sap.restarts.iter().enumerate() {
            if t.0 <= self.end {
                self.q.push(t.0, event(K_RESTART, i as u32, 0));
            }
        }
    }

    fn finish(mut self) -> (Outcome, O) {
        let end = self.end;
        self.now = end;
        self.update_gauges();
        // The laws hold over the whole run: what the warm-up counted, plus the measured window.
        let (w, c) = (&self.m.warmup, &self.m.c);
        let census = Census {
            sessions_established: w.logins_fresh + w.sessions_recovered + c.logins_fresh + c.sessions_recovered,
            sessions_ended: w.ended.iter().chain(&c.ended).sum(),
            sessions_live: self.live,
            contexts_created: w.contexts_created + c.contexts_created,
            contexts_live: self.clients.iter().filter(|c| c.sap.live).count() as u64,
            contexts_retained: self.sap.store.count(),
            contexts_gone: w.gone.iter().chain(&c.gone).sum(),
            retained_bytes: self.sap.store.bytes(),
        };
        (Outcome { metrics: self.m, end, census, stalled_at: None }, self.obs)
    }

    /// Start loading the client record an upcoming event will touch (every cache line of it).
    #[inline]
    fn prefetch(&self, payload: u64) {
        let (kind, a, _) = decode(payload);
        if kind < K_AUTO_LOGOUT {
            return; // not a client's event
        }
        if let Some(cl) = self.clients.get(a as usize) {
            // A record spans two or three cache lines: ask for each.
            let at = cl as *const Client as *const u8;
            let size = std::mem::size_of::<Client>();
            for off in [0, 64.min(size - 1), size - 1] {
                crate::engine::prefetch(at.wrapping_add(off));
            }
        }
    }

    fn dispatch(&mut self, payload: u64) {
        let (kind, a, b) = decode(payload);
        match kind {
            K_WARMUP_END => {
                self.update_gauges();
                self.m.begin_measuring(self.now);
            }
            K_SAMPLE => self.on_sample(),
            K_RESTART => self.on_restart(),
            K_EXPIRY => self.on_expiry(a),
            K_AUTO_LOGOUT => self.on_auto_logout(a as usize, b),
            K_DISCONNECT => self.on_disconnect(a as usize, b),
            _ => {
                let c = a as usize;
                if self.clients[c].timer_gen != b {
                    return; // superseded timer
                }
                self.m.c.events += 1;
                self.on_client(c);
            }
        }
    }

    // ---- randomness ------------------------------------------------------------------

    #[inline]
    fn u(&mut self, c: usize, purpose: Purpose) -> f64 {
        let cl = &mut self.clients[c];
        let n = cl.draws[purpose as usize];
        cl.draws[purpose as usize] = n.wrapping_add(1);
        self.key.uniform(c as u32, purpose as u32, n as u64)
    }

    /// A duration from the client's stream of `purpose`.
    #[inline]
    fn draw_us(&mut self, c: usize, purpose: Purpose, which: fn(&Params) -> &DurationDist) -> u64 {
        let u = self.u(c, purpose);
        which(&self.p).sample_us(u)
    }

    /// The profile of Client-ID generation `identity` in slot `c`: its context shape, version,
    /// syntax and login mode (S3, S14, S18). Pure in (seed, slot, identity), so what a client
    /// record does not keep is recomputed rather than stored.
    fn profile(&self, c: usize, identity: u32) -> (ContextShape, u8, Syntax, bool) {
        let u = |k: u64| self.profile_u(c, identity, k);
        let shape = self.shape(c, identity);
        let version = pick(&self.version_weights, u(0)) as u8;
        let syntax = Syntax::from_index(pick(&self.syntax_weights, u(1)) as u8);
        let four_way = u(2) < self.p.client.four_way_share;
        (shape, version, syntax, four_way)
    }

    /// Memory the context of (slot, Client-ID generation) takes at the SAP (S14): the
    /// shape part of `profile`, drawn alone.
    /// For the client's current identity the rebuilt parts are in its record; only the two
    /// negotiated counts are drawn again.
    fn context_bytes(&self, c: usize, identity: u32) -> u32 {
        let shape = if identity == self.clients[c].identity {
            let r = self.clients[c].shape;
            ContextShape {
                services: self.services(c, identity),
                capabilities: self.count(c, identity, 4, &self.p.context.capabilities),
                presence: r.presence,
                notifications: r.notifications,
                groups: r.groups,
            }
        } else {
            self.shape(c, identity)
        };
        shape.memory(&self.p.cost.context)
    }

    /// Count `k` of the profile of (slot, identity); a fixed count needs no draw (the draw
    /// is addressed by k, so skipping it shifts nothing).
    #[inline]
    fn count(&self, c: usize, identity: u32, k: u64, d: &CountDist) -> u16 {
        match d.0 {
            Dist::Fixed(_) => d.sample_count(0.5) as u16,
            _ => d.sample_count(self.profile_u(c, identity, k)) as u16,
        }
    }

    /// Uniform `k` of the profile of (slot, Client-ID generation): its own stream position,
    /// so the profile never depends on what else the client drew.
    #[inline]
    fn profile_u(&self, c: usize, identity: u32, k: u64) -> f64 {
        self.key.uniform(c as u32, Purpose::Profile as u32, identity as u64 * 16 + k)
    }

    /// S12: at least one service is always negotiated.
    fn services(&self, c: usize, identity: u32) -> u16 {
        self.count(c, identity, 3, &self.p.context.services).max(1)
    }

    fn shape(&self, c: usize, identity: u32) -> ContextShape {
        let cx = &self.p.context;
        ContextShape {
            services: self.services(c, identity),
            capabilities: self.count(c, identity, 4, &cx.capabilities),
            presence: self.count(c, identity, 5, &cx.presence_subscriptions),
            notifications: self.count(c, identity, 6, &cx.notification_subscriptions),
            groups: self.count(c, identity, 7, &cx.joined_groups),
        }
    }

    /// Take on the profile of the client's current identity.
    fn load_profile(&mut self, c: usize) {
        let (shape, version, syntax, four_way) = self.profile(c, self.clients[c].identity);
        let cl = &mut self.clients[c];
        cl.shape = shape.rebuild();
        cl.version = version;
        cl.preferred_version = version;
        cl.syntax = syntax;
        cl.set_four_way(four_way);
    }

    // ---- scheduling ------------------------------------------------------------------

    /// Replace the client's pending timer with one at `t` (older ones become stale).
    #[inline]
    fn schedule_client(&mut self, c: usize, t: SimTime) {
        debug_assert!(t >= self.now, "a client timer in the past");
        let cl = &mut self.clients[c];
        cl.timer_gen = cl.timer_gen.wrapping_add(1);
        if t <= self.end {
            self.q.push(t, event(K_CLIENT, c as u32, cl.timer_gen));
        }
    }

    #[inline]
    fn push(&mut self, t: SimTime, payload: u64) {
        debug_assert!(t >= self.now, "an event in the past");
        if t <= self.end {
            self.q.push(t, payload);
        }
    }

    // ---- observation -----------------------------------------------------------------

    fn on_sample(&mut self) {
        self.m.c.events += 1;
        let (recovery_attempts, recovery_successes) = self.m.recoveries_so_far();
        self.m.samples.push(Sample {
            time: self.now,
            active_sessions: self.live,
            retained_contexts: self.sap.store.count(),
            retained_bytes: self.sap.store.bytes(),
            recovery_attempts,
            recovery_successes,
        });
        let next = after(self.now, self.p.sample_every.0.max(1));
        self.push(next, event(K_SAMPLE, 0, 0));
    }

    fn update_gauges(&mut self) {
        let now = self.now;
        self.m.active.set(now, self.live);
        self.m.active_bytes.set(now, self.active_bytes);
        self.m.retained.set(now, self.sap.store.count());
        self.m.retained_bytes.set(now, self.sap.store.bytes());
    }

    /// Count a transaction of client `c`'s current session and show it to the observer (S13:
    /// inband carries the Session-ID).
    fn transaction(&mut self, c: usize, p: Primitive, inband: bool, session_id: u64, status: Status) {
        self.transaction_in(self.clients[c].syntax, c, p, inband, session_id, status);
    }

    /// A transaction in `syntax`: that of the session it belongs to (S3).
    fn transaction_in(
        &mut self,
        syntax: Syntax,
        c: usize,
        p: Primitive,
        inband: bool,
        session_id: u64,
        status: Status,
    ) {
        let bytes = self.traffic.bytes(p, syntax);
        self.m.c.transaction(p, syntax, bytes, inband);
        self.obs.transaction(&Transaction {
            time: self.now,
            client: c as u32,
            session_id: if inband { session_id } else { 0 },
            primitive: p,
            inband,
            bytes,
            status,
        });
    }

    // ---- SAP-side session life -------------------------------------------------------

    /// Set up a session for client `c` at the SAP (fresh, or re-established from a retained
    /// context), arm its auto-logout (S10) and its SAP-initiated disconnect (S8).
    fn establish(&mut self, c: usize, recovered_from: Option<u32>) {
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
        let ttl = self.ttl;
        if self.ttl_reduced {
            self.m.c.ttl_reduced += 1;
        }
        let identity = self.clients[c].identity;
        let bytes = self.context_bytes(c, identity);
        let s = &mut self.clients[c].sap;
        s.live = true;
        s.id = U48::new(sid);
        s.deadline = U48::new(after(now, ttl));
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
            self.push(deadline, event(K_AUTO_LOGOUT, c as u32, epoch));
        }
        // S8's Disconnect is drawn now but only scheduled once the auto-logout check before
        // it has passed (see `on_auto_logout`): most sessions end well before it, and a day
        // of pending timers for ended sessions would be most of the event set.
        let at = self.draw_after(c, Purpose::SapDisconnect, |p| p.sap.disconnect_every.0.as_ref());
        self.clients[c].sap.disconnect_at = U48::new(at);
        if at <= deadline {
            self.push(at, event(K_DISCONNECT, c as u32, epoch));
        }
        self.update_gauges();
    }

    /// S16: a new session of a client replaces the context it left behind; with the `user`
    /// scope, also those of the user's other clients.
    fn replace_retained(&mut self, c: usize) {
        let slots = match self.p.store.replace_scope {
            ReplaceScope::Client => c..c + 1,
            ReplaceScope::User => {
                // The user owning slot c: user_first is ascending.
                let user = self.user_first.partition_point(|&first| first as usize <= c) - 1;
                self.user_first[user] as usize..self.user_first[user + 1] as usize
            }
        };
        for s in slots {
            let idx = self.clients[s].retained;
            let Some(owner_identity) = self.sap.store.get(idx).map(|e| e.identity) else { continue };
            let same_client = owner_identity == self.clients[s].identity;
            if same_client {
                self.sap.store.remove(idx);
                self.m.c.gone[Gone::Replaced as usize] += 1;
                self.clients[s].fate = Gone::Replaced;
            }
            // A context of an earlier Client-ID is not this client's (S17): it stays, orphaned.
            if s == c || same_client {
                self.clients[s].retained = NONE;
            }
        }
        self.update_gauges();
    }

    /// End client `c`'s session at the SAP (S6) and keep or drop its context (S16).
    fn end_session(&mut self, c: usize, reason: EndReason) {
        let s = &mut self.clients[c].sap;
        debug_assert!(s.live);
        s.live = false;
        let (sid, identity) = (s.id.get(), s.identity);
        let bytes = self.context_bytes(c, identity);
        self.live -= 1;
        self.active_bytes -= bytes as u64;
        self.m.c.ended[reason as usize] += 1;
        // Err: the context is gone, and why; Ok: kept for that long (None: until replaced).
        let kept: Result<Option<u64>, Gone> = match reason {
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
            _ if self.retention == Some(0) => Err(Gone::NotStored),
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

    /// Put a context in the store for `hold` (None: until replaced), evicting the oldest while
    /// a cap would be exceeded.
    fn retain(&mut self, c: usize, sid: u64, identity: u32, bytes: u32, hold: Option<u64>) {
        if !self.sap.store.fits_at_all(bytes) {
            self.m.c.gone[Gone::Evicted as usize] += 1;
            self.clients[c].fate = Gone::Evicted;
            return;
        }
        while let Some(v) = self.sap.store.eviction_victim(bytes) {
            let e = self.sap.store.remove(v);
            self.forget(e.client as usize, v, Gone::Evicted);
        }
        let expires = match hold {
            Some(r) => after(self.now, r),
            None => NEVER,
        };
        let idx = self.sap.store.insert((sid, self.now, expires, c as u32, identity, bytes));
        // An expiry event names the index in 29 bits: 2^29 retained contexts need > 25 GB.
        assert!(idx < MAX_CLIENTS, "more than {MAX_CLIENTS} retained contexts at once");
        self.clients[c].retained = idx;
        if expires != NEVER {
            self.push(expires, event(K_EXPIRY, idx, 0));
        }
    }

    /// A retained context left the store for `why`: count it, and if it was its client's
    /// latest, record why for a later recovery attempt.
    fn forget(&mut self, owner: usize, idx: u32, why: Gone) {
        self.m.c.gone[why as usize] += 1;
        let o = &mut self.clients[owner];
        if o.retained == idx {
            o.retained = NONE;
            o.fate = why;
        }
    }

    fn on_expiry(&mut self, idx: u32) {
        match self.sap.store.get(idx) {
            Some(e) if e.expires_at == self.now => {
                self.m.c.events += 1;
                let e = self.sap.store.remove(idx);
                self.forget(e.client as usize, idx, Gone::Expired);
                self.update_gauges();
            }
            _ => {}
        }
    }

    fn on_auto_logout(&mut self, c: usize, epoch: u16) {
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
            self.push(deadline, event(K_AUTO_LOGOUT, c as u32, epoch));
            let at = s.disconnect_at.get();
            if self.now < at && at <= deadline {
                self.push(at, event(K_DISCONNECT, c as u32, epoch));
            }
        }
    }

    /// S8: the SAP disconnects a session; a reachable client hears of it and logs in again
    /// with its old Session-ID after a delay.
    fn on_disconnect(&mut self, c: usize, epoch: u16) {
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
                let way = self.draw_us(c, Purpose::Network, |p| &p.network.rtt) / 2;
                self.wait_relogin(c, after(self.now, way));
            }
            State::Exchange | State::Outage => cl.set_relogin_asked(true),
            State::Offline | State::WaitRelogin | State::Dormant => {}
        }
    }

    fn on_restart(&mut self) {
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

    /// Record a transaction's arrival in its session: true if the session is live, in which
    /// case the auto-logout deadline moves (S10).
    fn touch(&mut self, c: usize) -> bool {
        let now = self.now;
        let (sid, identity) = (self.clients[c].session_id.get(), self.clients[c].identity);
        let s = &mut self.clients[c].sap;
        if s.live && s.id.get() == sid && s.identity == identity && now < s.deadline.get() {
            s.deadline = U48::new(after(now, self.ttl));
            true
        } else {
            false
        }
    }

    // ---- client behaviour ------------------------------------------------------------

    fn on_client(&mut self, c: usize) {
        match self.clients[c].state {
            State::Offline => self.come_back(c, true),
            State::Outage => self.come_back(c, false),
            State::WaitRelogin if self.use_over(c) => self.go_offline(c),
            State::WaitRelogin => {
                self.clients[c].restore_start = U48::new(self.now);
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

    /// The client is reachable again, or its user is back.
    fn come_back(&mut self, c: usize, from_offline: bool) {
        let now = self.now;
        if from_offline {
            // The user starts a period of use: only the user ends it (`online_due`).
            let end = self.draw_after(c, Purpose::Behaviour, |p| Some(&p.client.session_length));
            self.clients[c].use_end = U48::new(end);
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
        cl.restore_start = U48::new(now);
        if cl.session_id.get() != 0 && cl.believes_live() && now < after(cl.last_send.get(), self.ttl) {
            // S1, S2: the session may have survived; a KeepAlive tells.
            self.send(c, now, Step::Probe);
        } else {
            self.login_or_recover(c);
        }
    }

    /// The user's period of use is over (a client can only notice it when it acts).
    #[inline]
    fn use_over(&self, c: usize) -> bool {
        self.now >= self.clients[c].use_end.get()
    }

    /// S8: log in again (with the old Session-ID) `relogin_delay` after hearing at `heard`
    /// that the SAP disconnected the session, whatever the client was doing when it came.
    fn wait_relogin(&mut self, c: usize, heard: SimTime) {
        let delay = self.draw_us(c, Purpose::Behaviour, |p| &p.client.relogin_delay);
        let cl = &mut self.clients[c];
        cl.set_believes_live(false);
        cl.state = State::WaitRelogin;
        self.schedule_client(c, after(heard, delay));
    }

    fn login_or_recover(&mut self, c: usize) {
        let recover =
            self.clients[c].session_id.get() != 0 && self.u(c, Purpose::Decision) < self.p.client.recover_prob;
        self.start_login(c, recover);
    }

    /// S18: recovery is a normal login carrying the old Session-ID; a fresh login carries none (S20).
    fn start_login(&mut self, c: usize, recover: bool) {
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
    fn send(&mut self, c: usize, t: SimTime, step: Step) {
        let rtt = self.draw_us(c, Purpose::Network, |p| &p.network.rtt);
        let out = rtt / 2;
        let cl = &mut self.clients[c];
        cl.state = State::Exchange;
        cl.step = step;
        cl.set_returning_leg(false);
        cl.last_send = U48::new(t);
        cl.back_delay = (rtt - out).min(u32::MAX as u64) as u32;
        self.schedule_client(c, after(t, out));
    }

    /// The response (or a timeout) will reach the client.
    fn respond(&mut self, c: usize, finish: SimTime, status: Status) {
        let timeout = self.p.client.request_timeout.0;
        let cl = &mut self.clients[c];
        let back = after(finish, cl.back_delay as u64);
        // A client whose one-way delay alone exceeds its timeout gave up before the request
        // arrived; its retry cannot come before this arrival is handled.
        let (at, status) = if back - cl.last_send.get() > timeout {
            (after(cl.last_send.get(), timeout).max(self.now), Status::Timeout)
        } else {
            (back, status)
        };
        cl.set_returning_leg(true);
        cl.status = status as u8;
        self.schedule_client(c, at);
    }

    /// A request reaches the SAP: the SAP decides and does its part now.
    fn on_arrival(&mut self, c: usize) {
        let now = self.now;
        let step = self.clients[c].step;
        let sid = self.clients[c].session_id.get();
        let prim = match step {
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
        };
        let fire_and_forget = matches!(step, Step::KeepAlive | Step::Activity | Step::Logout);
        // S13: fresh logins and version discovery are outband; a recovery login carries the old Session-ID.
        let inband = match step {
            Step::VersionDiscovery => false,
            Step::Login => self.clients[c].recovering(),
            _ => true,
        };
        if self.sap.is_down(now) {
            self.m.c.dropped += 1;
            self.transaction(c, prim, inband, sid, Status::Dropped);
            if fire_and_forget {
                self.after_fire_and_forget(c);
            } else {
                let t = after(self.clients[c].last_send.get(), self.p.client.request_timeout.0).max(now);
                self.clients[c].set_returning_leg(true);
                self.clients[c].status = Status::Timeout as u8;
                self.schedule_client(c, t);
            }
            return;
        }
        let mut extra = 0;
        let status = match step {
            Step::Probe | Step::KeepAlive | Step::Activity | Step::Service | Step::Capability | Step::Rebuild => {
                if self.touch(c) { Status::Ok } else { Status::SessionInvalid }
            }
            Step::Logout => {
                let s = self.clients[c].sap;
                if s.live && s.id.get() == sid {
                    self.end_session(c, EndReason::Logout);
                }
                Status::Ok
            }
            Step::VersionDiscovery => Status::Ok,
            // The second LoginRequest of a 4-way login (S18), or a retransmission of a login the
            // SAP already answered with a session (the response was late): the same answer
            // again, never a second session nor a second verdict, even if that session has ended
            // meanwhile (the client learns it at its next request). Either is heard, so a live
            // session's auto-logout timer restarts (S10). After a SAP restart the answer is
            // forgotten and the login judged afresh.
            Step::Login if self.clients[c].login_answered() => {
                self.touch(c);
                Status::Ok
            }
            Step::Login => {
                let cl = &self.clients[c];
                let verdict = self.sap.judge_login(
                    &cl.sap,
                    cl.identity,
                    cl.version,
                    cl.syntax,
                    cl.recovering().then_some(sid),
                    cl.retained,
                    cl.fate,
                    now,
                );
                match verdict {
                    LoginVerdict::VersionRejected => Status::VersionUnsupported,
                    LoginVerdict::SyntaxRejected => Status::SyntaxUnsupported,
                    LoginVerdict::Fresh => {
                        self.establish(c, None);
                        Status::Ok
                    }
                    LoginVerdict::Recovered { store_idx } => {
                        extra = self.sap.resubscribe * self.clients[c].shape.rebuild_items() as u64;
                        self.establish(c, Some(store_idx));
                        self.recovery_verdict(c, Verdict::Recovered);
                        Status::Ok
                    }
                    LoginVerdict::StillLive => {
                        self.touch(c);
                        self.clients[c].set_login_answered(true);
                        self.recovery_verdict(c, Verdict::Continued);
                        Status::Ok
                    }
                    LoginVerdict::Failed(why) => {
                        self.recovery_verdict(c, Verdict::Failed(why));
                        Status::RecoveryFailed
                    }
                }
            }
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

    /// Count the SAP's verdict on a recovery attempt once, however often the login was retried.
    fn recovery_verdict(&mut self, c: usize, verdict: Verdict) {
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

    fn after_fire_and_forget(&mut self, c: usize) {
        if self.clients[c].step == Step::Logout {
            self.go_offline(c);
        } else {
            self.clients[c].state = State::Online;
            self.schedule_online(c);
        }
    }

    /// The response (or timeout) reaches the client.
    fn on_response(&mut self, c: usize) {
        let now = self.now;
        let status = self.clients[c].status;
        let step = self.clients[c].step;
        // S8: a Disconnect during this exchange comes first, whatever the response.
        if self.heard_disconnect(c) {
            return;
        }
        if status == Status::Timeout as u8 {
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
            s if s == Status::Ok as u8 => match step {
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
                    } else {
                        self.send(c, now, Step::Service); // S12
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
                    if (cl.rebuild_done as u32) < cl.shape.rebuild_items() {
                        self.send(c, now, Step::Rebuild);
                    } else {
                        self.record_restore(c, false);
                        self.go_online(c);
                    }
                }
                Step::KeepAlive | Step::Activity | Step::Logout => {
                    unreachable!("fire-and-forget requests have no success response")
                }
            },
            s if s == Status::RecoveryFailed as u8 => {
                // S20: not logged in; log in again without the Session-ID, unless the user is done.
                if self.use_over(c) {
                    self.clients[c].session_id = U48::new(0);
                    self.go_offline(c);
                } else {
                    self.clients[c].set_after_502(true);
                    self.start_login(c, false);
                }
            }
            s if s == Status::VersionUnsupported as u8 => {
                if self.p.client.version_discovery {
                    self.send(c, now, Step::VersionDiscovery); // S7
                } else {
                    self.deny(c);
                }
            }
            s if s == Status::SyntaxUnsupported as u8 => self.deny(c),
            _ => {
                // 604: the session is gone. A client that was using it comes back now, unless
                // its user is done.
                let cl = &mut self.clients[c];
                cl.set_believes_live(false);
                if matches!(step, Step::KeepAlive | Step::Activity) {
                    cl.restore_start = U48::new(now);
                }
                if self.use_over(c) {
                    self.go_offline(c);
                } else {
                    self.login_or_recover(c);
                }
            }
        }
    }

    /// S8: a Disconnect came while the client could not hear it (an exchange, an outage); it
    /// acts on it now, as an online client does. Returns whether it did.
    fn heard_disconnect(&mut self, c: usize) -> bool {
        let cl = &mut self.clients[c];
        if !cl.relogin_asked() {
            return false;
        }
        cl.set_relogin_asked(false);
        cl.retries = 0;
        self.wait_relogin(c, self.now);
        true
    }

    /// S7: pick the highest version both sides support and log in again with it.
    fn after_discovery(&mut self, c: usize) {
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
    fn deny(&mut self, c: usize) {
        self.m.c.logins_denied += 1;
        self.clients[c].state = State::Dormant;
        self.clients[c].timer_gen = self.clients[c].timer_gen.wrapping_add(1);
    }

    fn record_restore(&mut self, c: usize, recovered: bool) {
        let cl = &self.clients[c];
        if !cl.had_context() {
            return; // a first login restores nothing
        }
        let d = self.now - cl.restore_start.get();
        let h = if recovered { &mut self.m.restore_recovered } else { &mut self.m.restore_fresh };
        h.saturating_record(d.max(1));
    }

    /// The session is up on the client's side (a login, a recovery or a continuation): plan
    /// the next KeepAlive, activity and outages. The user's period of use goes on unchanged.
    fn go_online(&mut self, c: usize) {
        let next_break = self.draw_after(c, Purpose::Behaviour, |p| p.transport_break.every.0.as_ref());
        let next_off = self.draw_after(c, Purpose::Behaviour, |p| p.device_off.every.0.as_ref());
        let next_activity = self.draw_after(c, Purpose::Behaviour, |p| p.client.activity.0.as_ref());
        let cl = &mut self.clients[c];
        cl.state = State::Online;
        cl.set_believes_live(true);
        cl.set_had_context(true);
        cl.set_after_502(false);
        cl.set_after_discovery(false);
        cl.next_break = U48::new(next_break);
        cl.next_off = U48::new(next_off);
        cl.next_activity = U48::new(next_activity);
        self.schedule_online(c);
    }

    /// Now plus a draw from the client's stream of `purpose`; `NEVER` if the process is off.
    #[inline]
    fn draw_after(&mut self, c: usize, purpose: Purpose, which: fn(&Params) -> Option<&DurationDist>) -> SimTime {
        if which(&self.p).is_none() {
            return NEVER;
        }
        let u = self.u(c, purpose);
        let d = which(&self.p).map_or(0, |d| d.sample_us(u));
        after(self.now, d)
    }

    fn next_keepalive(&self, c: usize) -> SimTime {
        let cl = &self.clients[c];
        // The granted TTL (S10), which the client learnt at login: the same for every session.
        if self.ttl == NEVER {
            return NEVER;
        }
        let interval = (self.ttl as f64 * self.p.client.keepalive_ratio) as u64;
        after(cl.last_send.get(), interval.max(1))
    }

    fn schedule_online(&mut self, c: usize) {
        let ka = self.next_keepalive(c);
        let cl = &self.clients[c];
        let t = ka.min(cl.next_activity.get()).min(cl.next_break.get()).min(cl.next_off.get()).min(cl.use_end.get());
        self.schedule_client(c, t.max(self.now));
    }

    /// The online timer fired: do whichever of its plans is due.
    fn online_due(&mut self, c: usize) {
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
            self.clients[c].next_activity = U48::new(next);
            self.send(c, now, Step::Activity);
        } else {
            self.send(c, now, Step::KeepAlive); // S10: in time, before the TTL runs out
        }
    }

    /// S1, S2: the client is unreachable for a while; the SAP does not know.
    fn outage(&mut self, c: usize, duration: fn(&Params) -> Option<&DurationDist>) {
        let back = self.draw_after(c, Purpose::Behaviour, duration);
        self.clients[c].state = State::Outage;
        self.schedule_client(c, back);
    }

    /// The user's period of use is over: Logout (S6), or walk away and let auto-logout end it.
    fn end_of_use(&mut self, c: usize) {
        if self.u(c, Purpose::Decision) < self.p.client.logout_prob {
            self.clients[c].set_believes_live(false);
            self.send(c, self.now, Step::Logout);
        } else {
            self.go_offline(c);
        }
    }

    fn go_offline(&mut self, c: usize) {
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

#[cfg(test)]
mod tests {
    use super::{Params, Sim, Verdict, pick};
    use crate::model::context::Gone;

    #[test]
    fn pick_splits_the_unit_interval_by_weight_and_never_picks_a_zero_weight() {
        // Half-open intervals: [0, 0.5) -> 0, [0.5, 1) -> 1.
        assert_eq!(pick(&[0.5, 0.5], 0.25), 0);
        assert_eq!(pick(&[0.5, 0.5], 0.5), 1);
        // A zero weight owns no part of the interval, not even its boundary point.
        assert_eq!(pick(&[1.0, 0.0, 1.0], 0.5), 2);
        // Weights need not sum to 1.
        assert_eq!(pick(&[3.0, 1.0], 0.74), 0);
        assert_eq!(pick(&[3.0, 1.0], 0.76), 1);
    }

    #[test]
    fn pick_falls_back_to_the_last_positive_weight_when_rounding_overshoots() {
        // Their sum times u just below 1 rounds so that subtracting the weights one by one walks
        // past all of them: the answer is the last option with a weight, never a zero-weight one.
        let u = 1.0 - f64::EPSILON / 2.0;
        let w = [0.1, 0.1, 0.6, 0.0];
        let mut x = u * w.iter().sum::<f64>();
        for v in &w {
            assert!(x >= *v, "this case must reach the fallback");
            x -= v;
        }
        assert_eq!(pick(&w, u), 2);
    }

    /// Every Client-ID generation of a slot draws its profile (S14, S17) from positions of its
    /// own: no two (generation, part) pairs share a draw, so a new Client-ID's syntax, version
    /// and context are independent of the old one's, and of each other.
    #[test]
    fn profile_draws_of_every_client_id_generation_and_part_are_distinct() {
        let sim = Sim::new(Params { clients: 2, ..Default::default() });
        for c in 0..2 {
            let mut seen: Vec<(u64, u32, u64)> = Vec::new();
            for identity in 0..4u32 {
                for k in 0..16u64 {
                    let u = sim.profile_u(c, identity, k);
                    assert!((0.0..1.0).contains(&u));
                    seen.push((u.to_bits(), identity, k));
                }
            }
            seen.sort();
            for w in seen.windows(2) {
                assert_ne!(w[0].0, w[1].0, "slot {c}: {:?} and {:?} share a draw", &w[0], &w[1]);
            }
        }
    }

    /// A login's verdict is counted once per attempt, however often the login is retried: a
    /// live session found is a continuation, never a recovery (S1, S18); a 502 counts its reason.
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
