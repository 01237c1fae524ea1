//! The simulation: the IMPS world driven by the event engine. Each event names a client
//! (or a retained context, or the SAP) and is dispatched to the handler of the protocol step
//! it stands for. A request's effect on the SAP happens when it *arrives* (send time plus
//! half the round trip); the client reacts when the response (or its timeout) reaches it.

use super::client::{Client, Purpose};
use super::cost::{Primitive, Syntax, TrafficCost};
use super::metrics::{Metrics, Sample};
use super::params::{Params, ReplaceScope};
use super::protocol::imps::Imps;
use super::protocol::{Protocol, WithProtocol};
use super::sap::{Sap, Status, span_duration};
use crate::engine::time::{MICROS, SimDuration, SimTime, after};
use crate::engine::{EventQueue, RngKey};

mod arrival;
mod event;
mod exchange;
mod profile;
mod retention;
mod session;
mod user;

pub use event::MAX_CLIENTS;
use event::{Event, Kind, PREFETCH_DISTANCE};
use profile::{P_USERS, pick, version_key};

/// One transaction as the SAP sees it: the load-generator view (`--trace`).
#[derive(Clone, Debug, PartialEq)]
pub struct Transaction {
    /// When the request reached the SAP (a Disconnect: when the SAP sent it).
    pub time: SimTime,
    /// The client's slot, 0..clients.
    pub client: u32,
    /// 0 when the transaction carries no Session-ID (outband, S13).
    pub session_id: u64,
    /// The CSP primitive.
    pub primitive: Primitive,
    /// Whether the transaction is inband (inside a session, S13).
    pub inband: bool,
    /// Modeled bytes of the exchange (request plus response) in the session's syntax.
    pub bytes: u32,
    /// The SAP's answer (200, 502, 505, 506, 604), or `Dropped` while the SAP restarts.
    pub status: Status,
}

/// Receives every transaction; `()` ignores them at no cost.
pub trait Observer {
    /// Sees one transaction, when its request reaches the SAP (a Disconnect: when the SAP sends it).
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

/// What a run produced.
pub struct Outcome {
    /// Everything the run measured.
    pub metrics: Metrics,
    /// When the run ended: its `duration`, in microseconds.
    pub end: SimTime,
    /// Where sessions and contexts stand at the end (the conservation laws).
    pub census: Census,
    /// Set when simulated time stopped advancing (a zero-delay loop in the scenario): the run
    /// was cut short at this time and its numbers must not be used.
    pub stalled_at: Option<SimTime>,
}

/// Where every session and context stands at the end: the conservation laws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Census {
    /// Sessions set up over the whole run: fresh logins plus recoveries.
    pub sessions_established: u64,
    /// Sessions ended over the whole run, for any reason.
    pub sessions_ended: u64,
    /// Sessions live at the end.
    pub sessions_live: u64,
    /// Contexts set up by fresh logins over the whole run.
    pub contexts_created: u64,
    /// Contexts of the sessions live at the end.
    pub contexts_live: u64,
    /// Contexts retained at the end.
    pub contexts_retained: u64,
    /// Contexts gone over the whole run, for any reason.
    pub contexts_gone: u64,
    /// Modeled bytes of the contexts retained at the end.
    pub retained_bytes: u64,
}

/// One simulation run: the clients, the SAP and the event queue under protocol `P`; `O` sees
/// every transaction.
pub struct Sim<O: Observer = (), P: Protocol = Imps> {
    proto: P,
    /// The server's inactivity timeout (`Protocol::inactivity_timeout` of the granted TTL) and
    /// the client's keep-alive interval, fixed for the run.
    timeout: SimDuration,
    keepalive_every: SimDuration,
    p: Params,
    key: RngKey,
    q: EventQueue<Event>,
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
    retention: Option<SimDuration>,
    /// The TimeToLive the SAP grants every session (S10): one request, one policy; and whether
    /// it is less than the client asked for.
    ttl: SimDuration,
    ttl_reduced: bool,
    live: u64,
    active_bytes: u64,
}

/// Run `p` under the protocol it names (`protocol = "..."`, IMPS by default).
pub fn simulate<O: Observer>(p: Params, observer: O) -> (Outcome, O) {
    struct Run<O>(Params, O);
    impl<O: Observer> WithProtocol for Run<O> {
        type Output = (Outcome, O);
        fn params(&self) -> &Params {
            &self.0
        }
        fn with<P: Protocol>(self, protocol: P) -> Self::Output {
            Sim::with_protocol(self.0, self.1, protocol).run()
        }
    }
    p.protocol.dispatch(Run(p, observer))
}

impl Sim<()> {
    /// A run of `p` under IMPS that observes nothing.
    pub fn new(p: Params) -> Self {
        Sim::with_observer(p, ())
    }
}

impl<O: Observer> Sim<O> {
    /// A run of `p` under IMPS whose transactions `obs` sees.
    pub(crate) fn with_observer(p: Params, obs: O) -> Self {
        Sim::with_protocol(p, obs, Imps)
    }
}

impl<O: Observer, P: Protocol> Sim<O, P> {
    /// A run of `p` under the rules of `proto`, whose transactions `obs` sees.
    pub fn with_protocol(p: Params, obs: O, proto: P) -> Self {
        // The loader refuses more; a library caller who builds Params directly is stopped here,
        // in release builds too, before an event could name a slot its field cannot hold.
        assert!(p.clients <= MAX_CLIENTS, "{} clients: at most {MAX_CLIENTS} fit the event encoding", p.clients);
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
        let (ttl, ttl_reduced) = sap.grant_ttl(span_duration(p.client.requested_ttl));
        let timeout = proto.inactivity_timeout(ttl);
        let keepalive_every = proto.keepalive_interval(ttl, p.client.keepalive_ratio);
        let traffic = TrafficCost::new(&proto.message_bytes(&p.cost.messages));
        Sim {
            proto,
            timeout,
            keepalive_every,
            key,
            q: EventQueue::with_capacity(n * 3 + 16),
            now: SimTime::ZERO,
            end: SimTime::ZERO + p.duration.0,
            clients,
            user_first,
            sap,
            m: Metrics::default(),
            obs,
            version_weights,
            syntax_weights,
            traffic,
            retention: p.retention.duration(),
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
            let t = self.p.startup.sample(self.key.uniform(c as u32, Purpose::Startup as u32, 0));
            self.schedule_client(c, SimTime::ZERO + t);
        }
        self.q.push(SimTime::ZERO, Event::SAMPLE);
        if !self.p.warmup.0.is_zero() {
            self.push(SimTime::ZERO + self.p.warmup.0, Event::WARMUP_END);
        }
        for (i, t) in self.p.sap.restarts.iter().enumerate() {
            let t = SimTime::ZERO + t.0;
            if t <= self.end {
                self.q.push(t, Event::restart(i as u32));
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

    /// Start loading the client record an upcoming event will touch.
    #[inline]
    fn prefetch(&self, e: Event) {
        if let Some(c) = e.touches_client() {
            crate::engine::prefetch_element(&self.clients, c as usize);
        }
    }

    fn dispatch(&mut self, e: Event) {
        let (a, b) = (e.entity, e.generation);
        match e.kind {
            Kind::WarmupEnd => {
                self.update_gauges();
                self.m.begin_measuring(self.now);
            }
            Kind::Sample => self.on_sample(),
            Kind::Restart => self.on_restart(),
            Kind::Expiry => self.on_expiry(a),
            Kind::AutoLogout => self.on_auto_logout(a as usize, b),
            Kind::Disconnect => self.on_disconnect(a as usize, b),
            Kind::Client => {
                let c = a as usize;
                if self.clients[c].timer_gen != b {
                    return; // superseded timer
                }
                self.m.c.events += 1;
                self.on_client(c);
            }
        }
    }

    /// Replace the client's pending timer with one at `t` (older ones become stale).
    #[inline]
    fn schedule_client(&mut self, c: usize, t: SimTime) {
        debug_assert!(t >= self.now, "a client timer in the past");
        let cl = &mut self.clients[c];
        cl.timer_gen = cl.timer_gen.wrapping_add(1);
        if t <= self.end {
            self.q.push(t, Event::client(c as u32, cl.timer_gen));
        }
    }

    #[inline]
    fn push(&mut self, t: SimTime, e: Event) {
        debug_assert!(t >= self.now, "an event in the past");
        if t <= self.end {
            self.q.push(t, e);
        }
    }

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
        let next = after(self.now, self.p.sample_every.0.max(MICROS));
        self.push(next, Event::SAMPLE);
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
}
