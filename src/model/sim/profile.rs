//! Randomness and the client's profile: every draw comes from a stream addressed by (seed,
//! client slot, purpose, counter), so adding a draw of one purpose never shifts another's; a
//! client's profile (context shape, version, syntax, login mode) is a pure function of (seed,
//! slot, Client-ID generation) and is recomputed rather than stored.

use super::{Observer, Sim};
use crate::engine::time::{NEVER, SimDuration, SimTime, after};
use crate::model::behaviour::{self, ProfilePart};
use crate::model::client::Purpose;
use crate::model::cost::{ContextShape, Syntax};
use crate::model::dist::{CountDist, DurationDist};
use crate::model::params::Params;
use crate::model::protocol::Protocol;

/// Stream purposes not tied to a client's counters.
pub(super) const P_USERS: u32 = 18;

/// Pick an index from weights (not necessarily normalised) with uniform `u`.
pub(super) fn pick(weights: &[f64], u: f64) -> usize {
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
pub(super) fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|x| x.parse().unwrap_or(0)).collect()
}

impl<O: Observer, P: Protocol> Sim<O, P> {
    #[inline]
    pub(super) fn u(&mut self, c: usize, purpose: Purpose) -> f64 {
        let cl = &mut self.clients[c];
        let n = cl.draws[purpose as usize];
        cl.draws[purpose as usize] = n.wrapping_add(1);
        self.key.uniform(c as u32, purpose as u32, n as u64)
    }

    /// A duration from the client's stream of `purpose`.
    #[inline]
    pub(super) fn draw(&mut self, c: usize, purpose: Purpose, which: fn(&Params) -> &DurationDist) -> SimDuration {
        let u = self.u(c, purpose);
        which(&self.p).sample(u)
    }

    /// Now plus a draw from the client's stream of `purpose`; `NEVER` if the process is off.
    #[inline]
    pub(super) fn draw_after(
        &mut self,
        c: usize,
        purpose: Purpose,
        which: fn(&Params) -> Option<&DurationDist>,
    ) -> SimTime {
        if which(&self.p).is_none() {
            return NEVER;
        }
        let u = self.u(c, purpose);
        let d = which(&self.p).map_or(SimDuration::ZERO, |d| d.sample(u));
        after(self.now, d)
    }

    /// The profile of Client-ID generation `identity` in slot `c`: its context shape, version,
    /// syntax and login mode (S3, S14, S18). Pure in (seed, slot, identity), so what a client
    /// record does not keep is recomputed rather than stored.
    pub(super) fn profile(&self, c: usize, identity: u32) -> (ContextShape, u8, Syntax, bool) {
        let u = |part: ProfilePart| self.profile_u(c, identity, part as u64);
        let shape = self.shape(c, identity);
        let version = pick(&self.version_weights, u(ProfilePart::Version)) as u8;
        let syntax = Syntax::from_index(pick(&self.syntax_weights, u(ProfilePart::Syntax)) as u8);
        let four_way = u(ProfilePart::FourWay) < self.p.client.four_way_share;
        (shape, version, syntax, four_way)
    }

    /// Memory the context of (slot, Client-ID generation) takes at the SAP (S14): the
    /// shape part of `profile`, drawn alone.
    /// For the client's current identity the rebuilt parts are in its record; only the two
    /// negotiated counts are drawn again.
    pub(super) fn context_bytes(&self, c: usize, identity: u32) -> u32 {
        let shape = if identity == self.clients[c].identity {
            let r = self.clients[c].shape;
            ContextShape {
                services: self.services(c, identity),
                capabilities: self.count(c, identity, ProfilePart::Capabilities, &self.p.context.capabilities),
                presence: r.presence,
                notifications: r.notifications,
                groups: r.groups,
            }
        } else {
            self.shape(c, identity)
        };
        shape.memory(&self.p.cost.context)
    }

    /// Count `part` of the profile of (slot, identity) (see `behaviour::count`).
    #[inline]
    pub(super) fn count(&self, c: usize, identity: u32, part: ProfilePart, d: &CountDist) -> u16 {
        behaviour::count(&self.key, c as u32, identity, part, d)
    }

    /// Uniform `k` of the profile of (slot, Client-ID generation) (see `behaviour::profile_u`).
    #[inline]
    pub(super) fn profile_u(&self, c: usize, identity: u32, k: u64) -> f64 {
        behaviour::profile_u(&self.key, c as u32, identity, k)
    }

    /// S12: at least one service is always negotiated.
    pub(super) fn services(&self, c: usize, identity: u32) -> u16 {
        self.count(c, identity, ProfilePart::Services, &self.p.context.services).max(1)
    }

    pub(super) fn shape(&self, c: usize, identity: u32) -> ContextShape {
        behaviour::shape(&self.p, &self.key, c as u32, identity)
    }

    /// Take on the profile of the client's current identity.
    pub(super) fn load_profile(&mut self, c: usize) {
        let (shape, version, syntax, four_way) = self.profile(c, self.clients[c].identity);
        let cl = &mut self.clients[c];
        cl.shape = shape.rebuild();
        cl.version = version;
        cl.preferred_version = version;
        cl.syntax = syntax;
        cl.set_four_way(four_way);
    }
}

#[cfg(test)]
mod tests {
    use super::pick;
    use crate::model::{Params, Sim};

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
}
