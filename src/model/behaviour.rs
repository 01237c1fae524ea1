//! A client's random streams, addressed by (seed, client slot, purpose, counter): the
//! simulation draws through these functions, and so does a driver that plays the same users
//! against a real server in real time (`impsim live`), so the two cannot drift apart.
//!
//! Purposes are separate streams: the user's behaviour (periods of use, offline spells,
//! outages, activity), the client's decisions (log out, recover, change Client-ID, abandon),
//! the network, the SAP's disconnects. A driver that follows the same path through a
//! client's life draws the same numbers in the same order.

use super::client::Purpose;
use super::cost::ContextShape;
use super::dist::{CountDist, Dist, DurationDist};
use super::params::Params;
use crate::engine::RngKey;
use crate::engine::time::SimDuration;

/// The parts of a client's profile, each drawn from its own position of the profile stream
/// (below 16: `profile_u` gives each Client-ID generation 16 positions). A new part takes the
/// next free number; renumbering one changes every result.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ProfilePart {
    Version = 0,
    Syntax = 1,
    FourWay = 2,
    Services = 3,
    Capabilities = 4,
    Presence = 5,
    Notifications = 6,
    Groups = 7,
}

/// Uniform `k` of the profile of (slot, Client-ID generation): its own stream position, so the
/// profile never depends on what else the client drew.
#[inline]
pub(crate) fn profile_u(key: &RngKey, c: u32, identity: u32, k: u64) -> f64 {
    key.uniform(c, Purpose::Profile as u32, identity as u64 * 16 + k)
}

/// Count `part` of the profile of (slot, identity); a fixed count needs no draw (the draw is
/// addressed by its part, so skipping it shifts nothing).
#[inline]
pub(crate) fn count(key: &RngKey, c: u32, identity: u32, part: ProfilePart, d: &CountDist) -> u16 {
    match d.0 {
        Dist::Fixed(_) => d.sample_count(0.5) as u16,
        _ => d.sample_count(profile_u(key, c, identity, part as u64)) as u16,
    }
}

/// The context of (slot, Client-ID generation) (S14); at least one service (S12).
pub(crate) fn shape(p: &Params, key: &RngKey, c: u32, identity: u32) -> ContextShape {
    let cx = &p.context;
    ContextShape {
        services: count(key, c, identity, ProfilePart::Services, &cx.services).max(1),
        capabilities: count(key, c, identity, ProfilePart::Capabilities, &cx.capabilities),
        presence: count(key, c, identity, ProfilePart::Presence, &cx.presence_subscriptions),
        notifications: count(key, c, identity, ProfilePart::Notifications, &cx.notification_subscriptions),
        groups: count(key, c, identity, ProfilePart::Groups, &cx.joined_groups),
    }
}

/// One client's streams outside a simulation, with their own counters.
#[derive(Clone, Debug)]
pub struct ClientDraws<'a> {
    p: &'a Params,
    key: RngKey,
    c: u32,
    n: [u32; 4],
}

impl<'a> ClientDraws<'a> {
    /// Client slot `c` of scenario `p` (its seed included).
    pub fn new(p: &'a Params, c: u32) -> Self {
        ClientDraws { p, key: RngKey::from_seed(p.seed), c, n: [0; 4] }
    }

    fn u(&mut self, purpose: Purpose) -> f64 {
        let n = &mut self.n[purpose as usize];
        let u = self.key.uniform(self.c, purpose as u32, *n as u64);
        *n = n.wrapping_add(1);
        u
    }

    fn behaviour(&mut self, d: fn(&Params) -> &DurationDist) -> SimDuration {
        let u = self.u(Purpose::Behaviour);
        d(self.p).sample(u)
    }

    fn every(&mut self, d: fn(&Params) -> Option<&DurationDist>) -> Option<SimDuration> {
        d(self.p)?;
        let u = self.u(Purpose::Behaviour);
        d(self.p).map(|d| d.sample(u))
    }

    fn decides(&mut self, prob: fn(&Params) -> f64) -> bool {
        self.u(Purpose::Decision) < prob(self.p)
    }

    /// When the client first comes online, after the run's start.
    pub fn startup(&self) -> SimDuration {
        self.p.startup.sample(self.key.uniform(self.c, Purpose::Startup as u32, 0))
    }
    /// A period of use, drawn as the user comes back from offline.
    pub fn session_length(&mut self) -> SimDuration {
        self.behaviour(|p| &p.client.session_length)
    }
    /// An offline spell, drawn as the user leaves.
    pub fn offline(&mut self) -> SimDuration {
        self.behaviour(|p| &p.client.offline)
    }
    /// Drawn as a session comes up, in this order: the next transport break, the next device
    /// power cycle and the next activity, each from now; `None` for a process that is off
    /// (which draws nothing).
    pub fn plan_online(&mut self) -> [Option<SimDuration>; 3] {
        let b = self.every(|p| p.transport_break.every.0.as_ref());
        let o = self.every(|p| p.device_off.every.0.as_ref());
        let a = self.every(|p| p.client.activity.0.as_ref());
        [b, o, a]
    }
    /// The activity after this one.
    pub fn next_activity(&mut self) -> Option<SimDuration> {
        self.every(|p| p.client.activity.0.as_ref())
    }
    /// A transport break's length.
    pub fn break_length(&mut self) -> SimDuration {
        self.behaviour(|p| &p.transport_break.duration)
    }
    /// A device power cycle's length.
    pub fn off_length(&mut self) -> SimDuration {
        self.behaviour(|p| &p.device_off.duration)
    }
    /// Back from offline after a session: does the client come back under a new Client-ID (S17)?
    pub fn changes_client_id(&mut self) -> bool {
        self.decides(|p| p.client.client_id_change_prob)
    }
    /// Holding a Session-ID: does the client try to recover (S18) rather than log in afresh?
    pub fn recovers(&mut self) -> bool {
        self.decides(|p| p.client.recover_prob)
    }
    /// At the end of a period of use: log out (S6) rather than walk away?
    pub fn logs_out(&mut self) -> bool {
        self.decides(|p| p.client.logout_prob)
    }
    /// Going offline: is the client abandoned for good (S17)?
    pub fn abandons(&mut self) -> bool {
        self.decides(|p| p.client.abandon_prob)
    }
    /// The subscriptions and groups Client-ID generation `identity` rebuilds after a fresh
    /// login (S19): presence subscriptions, notification subscriptions, joined groups.
    pub fn rebuild_items(&self, identity: u32) -> u32 {
        let s = shape(self.p, &self.key, self.c, identity);
        u32::from(s.presence) + u32::from(s.notifications) + u32::from(s.groups)
    }
}
