//! MQTT 5 session management as a broker such as Mosquitto 2.0 applies it: the same session
//! concepts as IMPS under other names and clocks.
//!
//! | IMPS (docs/spec.md)                  | MQTT 5                                                   |
//! |--------------------------------------|----------------------------------------------------------|
//! | TimeToLive, auto-logout (S10)        | Keep Alive K; the broker closes a connection silent for more than 1.5 K |
//! | retention period (S16)               | Session Expiry Interval (0, seconds, or 0xFFFFFFFF = never) |
//! | LoginRequest with the old Session-ID | CONNECT with Clean Start = 0 and the old Client Identifier |
//! | 200 recovered / 502 (S19, S20)       | CONNACK Session Present = 1 / 0                          |
//! | S1: the session survives a break     | a new CONNECT takes over the still-open session          |
//! | context rebuild (S12)                | one SUBSCRIBE per subscription; no negotiation           |
//! | a new Client-ID (S17)                | a new Client Identifier: the old session is orphaned     |
//!
//! The broker's timers count whole seconds of its clock (`mqtt.clock`): a session is removed at
//! the first whole second after its expiry, so the retention really applied is uniform on
//! (R, R + 1] s; a silent connection is dropped at the first keep-alive check (every
//! `mqtt.keepalive_check` seconds) at which more than 1.5 K whole seconds have passed since
//! its last packet (Mosquitto 2.0.11, src/keepalive.c and the session expiry check).

use super::Protocol;
use crate::engine::time::{FOREVER, NEVER, SimDuration, SimTime};
use crate::model::params::{MessageBytes, Params, SyntaxBytes};

/// MQTT 5 with the broker rules of a scenario's `[mqtt]` table.
#[derive(Clone, Copy, Debug)]
pub struct Mqtt5 {
    /// One second of the broker's clock, in simulated microseconds (at least 1).
    tick: u64,
    /// Seconds between the broker's keep-alive checks (at least 1).
    check_every: u64,
}

impl Default for Mqtt5 {
    /// Mosquitto 2.0 in real time: one-second timers, keep-alive checked every 6 s.
    fn default() -> Self {
        Mqtt5 { tick: 1_000_000, check_every: 6 }
    }
}

impl Mqtt5 {
    /// The broker's whole second at `t`.
    fn second(&self, t: SimTime) -> u64 {
        t.as_micros() / self.tick
    }
    /// The instant the broker's second `s` begins ("never" past the representable).
    fn at_second(&self, s: u64) -> SimTime {
        s.checked_mul(self.tick).map_or(NEVER, SimTime::from_micros)
    }
}

impl Protocol for Mqtt5 {
    fn configured(p: &Params) -> Self {
        Mqtt5 { tick: p.mqtt.clock.0.as_micros().max(1), check_every: u64::from(p.mqtt.keepalive_check.max(1)) }
    }

    /// The broker drops a connection silent for more than one and a half Keep Alive periods.
    #[inline]
    fn inactivity_timeout(&self, granted: SimDuration) -> SimDuration {
        if granted == FOREVER { FOREVER } else { granted + granted / 2 }
    }

    /// A client sends PINGREQ when it has sent nothing for its keep-alive interval: the
    /// granted period scaled by `client.keepalive_ratio`, as an IMPS client's KeepAlive.
    #[inline]
    fn keepalive_interval(&self, granted: SimDuration, ratio: f64) -> SimDuration {
        super::imps::Imps.keepalive_interval(granted, ratio)
    }

    /// A client back from an outage has lost its connection: it connects again at once (Clean
    /// Start = 0, the same Client Identifier), taking over the session if it is still open.
    #[inline]
    fn probes_after_outage(&self) -> bool {
        false
    }

    /// CONNECT and CONNACK carry everything negotiated; the subscriptions follow.
    #[inline]
    fn negotiates_after_login(&self) -> bool {
        false
    }

    /// CONNECT with Clean Start = 0 for a session the broker no longer has: CONNACK with
    /// Session Present = 0 and a fresh session, in the same exchange.
    #[inline]
    fn fresh_session_on_failed_recovery(&self) -> bool {
        true
    }

    /// The broker stores "now in whole seconds + R" at the disconnect and removes the session
    /// once that is earlier than now: at the start of second floor(ended) + R + 1.
    #[inline]
    fn expires_at(&self, ended: SimTime, hold: SimDuration) -> SimTime {
        if hold == FOREVER {
            return NEVER;
        }
        let r = hold.as_micros() / self.tick;
        self.at_second(self.second(ended).saturating_add(r).saturating_add(1))
    }

    /// Dropped at the first check second c with c - floor(last) > floor(1.5 K), checks at
    /// multiples of `keepalive_check` seconds.
    #[inline]
    fn session_deadline(&self, last_heard: SimTime, timeout: SimDuration) -> SimTime {
        if timeout == FOREVER {
            return NEVER;
        }
        let limit = timeout.as_micros() / self.tick;
        let first = self.second(last_heard).saturating_add(limit).saturating_add(1);
        self.at_second(first.div_ceil(self.check_every).saturating_mul(self.check_every))
    }

    /// MQTT 5 packets as the live driver sends them (see the sizes below), whatever the syntax.
    fn message_bytes(&self, _scenario: &MessageBytes) -> MessageBytes {
        let all = |b: u32| SyntaxBytes { xml: b, wbxml: b, pts: b };
        MessageBytes {
            login: all(wire::CONNECT + wire::CONNACK),
            keepalive: all(wire::PINGREQ + wire::PINGRESP),
            logout: all(wire::DISCONNECT),
            disconnect: all(wire::DISCONNECT_BY_SERVER),
            service_negotiation: all(0),
            capability_negotiation: all(0),
            subscribe_presence: all(wire::SUBSCRIBE + wire::SUBACK),
            subscribe_notification: all(wire::SUBSCRIBE + wire::SUBACK),
            join_group: all(wire::SUBSCRIBE + wire::SUBACK),
            version_discovery: all(0),
            activity: all(wire::PUBLISH),
        }
    }
}

/// What a virtual client sends and the sizes of its packets on the wire (fixed header
/// included), as the live driver encodes them: the simulation counts the same bytes.
pub mod wire {
    /// The Client Identifier of client slot `c` under Client-ID generation `g` (S17: a new
    /// generation is a new identifier): always `CLIENT_ID_LEN` characters.
    pub fn client_id(c: u32, g: u32) -> String {
        format!("impsim-{:08}-{:04}", c, g % 10_000)
    }
    /// Characters of every Client Identifier (within the 23 every broker must accept).
    pub const CLIENT_ID_LEN: u32 = 20;

    /// The topic of subscription `i` of client slot `c`: always `TOPIC_LEN` characters.
    pub fn topic(c: u32, i: u32) -> String {
        format!("impsim/{:08}/s{:05}", c, i % 100_000)
    }
    /// Characters of every topic.
    pub const TOPIC_LEN: u32 = 22;
    /// Bytes of an activity PUBLISH's payload.
    pub const PAYLOAD_LEN: u32 = 64;

    /// CONNECT: fixed header 2; protocol name 6, version 1, flags 1, Keep Alive 2; properties
    /// 1 + Session Expiry Interval 5; Client Identifier 2 + its characters.
    pub const CONNECT: u32 = 2 + 10 + 6 + 2 + CLIENT_ID_LEN;
    /// CONNACK: fixed header 2; flags 1, reason 1, properties 1 (a broker may add more).
    pub const CONNACK: u32 = 2 + 3;
    /// PINGREQ and PINGRESP: a fixed header each.
    pub const PINGREQ: u32 = 2;
    /// See `PINGREQ`.
    pub const PINGRESP: u32 = 2;
    /// SUBSCRIBE of one topic: fixed header 2; packet id 2, properties 1; topic 2 + its
    /// characters, options 1.
    pub const SUBSCRIBE: u32 = 2 + 3 + 2 + TOPIC_LEN + 1;
    /// SUBACK of one topic: fixed header 2; packet id 2, properties 1, reason 1.
    pub const SUBACK: u32 = 2 + 4;
    /// A QoS 0 PUBLISH: fixed header 2; topic 2 + its characters, properties 1; payload.
    pub const PUBLISH: u32 = 2 + 2 + TOPIC_LEN + 1 + PAYLOAD_LEN;
    /// The client's DISCONNECT (normal, no properties): a fixed header.
    pub const DISCONNECT: u32 = 2;
    /// The broker's DISCONNECT with a reason code and empty properties.
    pub const DISCONNECT_BY_SERVER: u32 = 2 + 2;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SECOND;

    fn at(s: f64) -> SimTime {
        SimTime::from_micros((s * 1e6) as u64)
    }

    #[test]
    fn a_session_expires_at_the_first_whole_second_after_its_interval() {
        let m = Mqtt5::default();
        // Ended at 10.0 s or 10.9 s with R = 5 s: stored 15, removed when 15 < now, at 16 s.
        assert_eq!(m.expires_at(at(10.0), 5 * SECOND), at(16.0));
        assert_eq!(m.expires_at(at(10.999_999), 5 * SECOND), at(16.0));
        assert_eq!(m.expires_at(at(11.0), 5 * SECOND), at(17.0));
        // So the retention applied lies in (R, R + 1].
        for e in [0.0, 0.25, 3.5, 7.999_999] {
            let held = m.expires_at(at(e), 5 * SECOND) - at(e);
            assert!(held > 5 * SECOND && held <= 6 * SECOND, "{e}: {held}");
        }
        assert_eq!(m.expires_at(at(10.0), FOREVER), NEVER, "0xFFFFFFFF: never expires");
        // A broker clock of 30 simulated seconds (a live run compressed 30 times).
        let k30 = Mqtt5 { tick: 30_000_000, check_every: 6 };
        assert_eq!(k30.expires_at(at(95.0), 150 * SECOND), at(30.0 * (3.0 + 5.0 + 1.0)));
    }

    #[test]
    fn a_silent_connection_is_dropped_at_the_first_check_past_one_and_a_half_keep_alives() {
        let m = Mqtt5::default();
        let k = 10 * SECOND;
        let timeout = m.inactivity_timeout(k);
        assert_eq!(timeout, 15 * SECOND);
        // Last packet at 100.4 s: second 100; dropped once now - 100 > 15, at a check second
        // (multiples of 6): 116 is not one, 120 is.
        assert_eq!(m.session_deadline(at(100.4), timeout), at(120.0));
        // Last packet at 102.9 s: second 102, first second past is 118, next check 120.
        assert_eq!(m.session_deadline(at(102.9), timeout), at(120.0));
        assert_eq!(m.session_deadline(at(105.0), timeout), at(126.0));
        // Checked every second: the first second past the limit.
        let every = Mqtt5 { tick: 1_000_000, check_every: 1 };
        assert_eq!(every.session_deadline(at(100.4), timeout), at(116.0));
        // K = 7 s: 1.5 K = 10.5 s, whole seconds 10.
        assert_eq!(every.session_deadline(at(0.0), m.inactivity_timeout(7 * SECOND)), at(11.0));
        assert_eq!(m.session_deadline(at(3.0), FOREVER), NEVER);
        // Measured on Mosquitto 2.0.11 with K = 10 s: closed 15.2 to 20.8 s after the last packet.
        for tenth in 0..600 {
            let last = at(tenth as f64 / 10.0);
            let after = m.session_deadline(last, timeout) - last;
            assert!(after > 15 * SECOND && after <= 22 * SECOND, "{last}: {after}");
        }
    }

    #[test]
    fn the_broker_clock_comes_from_the_scenario() {
        let mut p = Params::default();
        p.mqtt.clock = crate::model::params::Dur(30 * SECOND);
        p.mqtt.keepalive_check = 3;
        let m = Mqtt5::configured(&p);
        assert_eq!((m.tick, m.check_every), (30_000_000, 3));
        assert_eq!(Mqtt5::configured(&Params::default()).tick, Mqtt5::default().tick);
    }

    #[test]
    fn reconnecting_replaces_probing_and_negotiation() {
        let m = Mqtt5::default();
        assert!(!m.probes_after_outage() && !m.negotiates_after_login());
        assert!(m.fresh_session_on_failed_recovery());
        assert_eq!(m.keepalive_interval(10 * SECOND, 1.0), 10 * SECOND);
        assert_eq!(m.keepalive_interval(10 * SECOND, 0.5), 5 * SECOND);
        assert_eq!(m.keepalive_interval(FOREVER, 1.0), FOREVER);
        assert_eq!(m.inactivity_timeout(FOREVER), FOREVER);
    }

    #[test]
    fn identifiers_have_the_lengths_the_sizes_assume() {
        assert_eq!(wire::client_id(7, 1).len() as u32, wire::CLIENT_ID_LEN);
        assert_eq!(wire::client_id(99_999_999, 123_456).len() as u32, wire::CLIENT_ID_LEN);
        assert_eq!(wire::topic(0, 0).len() as u32, wire::TOPIC_LEN);
        assert_eq!(wire::topic(12_345_678, 4_000_000).len() as u32, wire::TOPIC_LEN);
        assert_ne!(wire::client_id(7, 1), wire::client_id(7, 2), "a new Client-ID generation is a new identifier");
        let b = Mqtt5::default().message_bytes(&MessageBytes::default());
        assert_eq!(b.login.wbxml, 40 + 5);
        assert_eq!((b.keepalive.xml, b.service_negotiation.pts), (4, 0));
    }
}
