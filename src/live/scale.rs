//! Time compression: a live run plays the scenario's user behaviour, retention and keep-alive
//! K times faster than simulated time; the network and the broker's work stay real. MQTT
//! carries the Session Expiry Interval as u32 seconds and Keep Alive as u16 seconds, so the
//! scenario's retention and TimeToLive must come out as whole seconds once divided by K.

use crate::engine::time::{SECOND, SimDuration};
use crate::model::params::{Params, Span};
use std::time::Duration;

/// Real time is simulated time divided by `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    k: u32,
}

impl Scale {
    /// Compression by `k` (at least 1: 1 is real time).
    pub fn new(k: u32) -> Result<Scale, String> {
        if k == 0 {
            Err("--scale must be at least 1 (1 plays the scenario in real time)".into())
        } else {
            Ok(Scale { k })
        }
    }

    /// The factor K.
    pub fn factor(self) -> u32 {
        self.k
    }

    /// The real time a simulated span takes (rounded down to the microsecond).
    pub fn real(self, d: SimDuration) -> Duration {
        Duration::from_micros(d.as_micros() / u64::from(self.k))
    }

    /// The simulated span a real one stands for.
    pub fn simulated(self, real: Duration) -> SimDuration {
        let us = u64::try_from(real.as_micros()).unwrap_or(u64::MAX);
        SimDuration::from_micros(us.saturating_mul(u64::from(self.k)))
    }

    /// One second of the broker's clock in simulated time: the `mqtt.clock` of the simulation
    /// a live run is compared with.
    pub fn broker_second(self) -> SimDuration {
        u64::from(self.k) * SECOND
    }

    /// `d` divided by K in whole seconds, if it is whole.
    fn whole_seconds(self, d: SimDuration) -> Option<u64> {
        let per = self.broker_second().as_micros();
        d.as_micros().is_multiple_of(per).then_some(d.as_micros() / per)
    }

    /// The Session Expiry Interval for the scenario's retention: 0 (nothing kept), its real
    /// seconds, or 0xFFFFFFFF (never expires).
    pub fn session_expiry(self, retention: Span) -> Result<u32, String> {
        match retention {
            Span::Infinite => Ok(u32::MAX),
            Span::Finite(d) => match self.whole_seconds(d) {
                Some(s) if s < u64::from(u32::MAX) => Ok(s as u32),
                Some(_) => Err(format!("{d} at --scale {} is longer than MQTT's 136 years", self.k)),
                None => Err(self.not_whole(d)),
            },
        }
    }

    /// The Keep Alive for the scenario's requested TimeToLive, in real seconds.
    pub fn keep_alive(self, ttl: Span) -> Result<u16, String> {
        let Span::Finite(d) = ttl else {
            return Ok(0); // MQTT: 0 is no keep-alive at all
        };
        match self.whole_seconds(d) {
            Some(0) => Err(format!("{d} at --scale {} is under a second; MQTT counts whole seconds", self.k)),
            Some(s) if s <= u64::from(u16::MAX) => Ok(s as u16),
            Some(s) => Err(format!("{d} at --scale {} is {s} s; MQTT's Keep Alive is at most 65535 s", self.k)),
            None => Err(self.not_whole(d)),
        }
    }

    fn not_whole(self, d: SimDuration) -> String {
        let real = d.as_micros() as f64 / 1e6 / f64::from(self.k);
        format!(
            "{d} at --scale {} is {real:.3} s of real time; MQTT counts whole seconds: choose a --scale that \
             divides it into whole seconds",
            self.k
        )
    }

    /// Every field of `p` a live run needs in whole seconds, checked: (field, why) of the first
    /// that is not.
    pub fn check(self, p: &Params) -> Result<(u32, u16), (String, String)> {
        let expiry = self.session_expiry(p.retention).map_err(|e| ("retention".to_string(), e))?;
        let keep_alive =
            self.keep_alive(p.client.requested_ttl).map_err(|e| ("client.requested_ttl".to_string(), e))?;
        Ok((expiry, keep_alive))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{HOUR, MINUTE};

    #[test]
    fn spans_divide_by_k_both_ways() {
        let k30 = Scale::new(30).unwrap();
        assert_eq!(k30.real(HOUR), Duration::from_secs(120));
        assert_eq!(k30.simulated(Duration::from_secs(120)), HOUR);
        assert_eq!(k30.real(SimDuration::from_micros(59)), Duration::from_micros(1), "rounded down");
        assert_eq!(k30.broker_second(), 30 * SECOND);
        assert_eq!(k30.factor(), 30);
        assert_eq!(Scale::new(1).unwrap().real(HOUR), Duration::from_secs(3600), "1: real time");
        assert!(Scale::new(0).unwrap_err().contains("at least 1"));
    }

    #[test]
    fn mqtt_intervals_are_whole_real_seconds() {
        let k30 = Scale::new(30).unwrap();
        assert_eq!(k30.session_expiry(Span::Finite(30 * MINUTE)), Ok(60));
        assert_eq!(k30.session_expiry(Span::Finite(SimDuration::ZERO)), Ok(0), "nothing kept");
        assert_eq!(k30.session_expiry(Span::Infinite), Ok(u32::MAX), "0xFFFFFFFF: never expires");
        assert_eq!(k30.keep_alive(Span::Finite(10 * MINUTE)), Ok(20));
        assert_eq!(k30.keep_alive(Span::Infinite), Ok(0), "no keep-alive");
        let k7 = Scale::new(7).unwrap();
        let e = k7.session_expiry(Span::Finite(30 * MINUTE)).unwrap_err();
        assert!(e.contains("257.143 s") && e.contains("whole seconds"), "{e}");
        assert!(k30.keep_alive(Span::Finite(15 * SECOND)).unwrap_err().contains("whole seconds"));
        assert!(k30.keep_alive(Span::Finite(SimDuration::ZERO)).unwrap_err().contains("under a second"));
        assert!(Scale::new(1).unwrap().keep_alive(Span::Finite(24 * HOUR)).unwrap_err().contains("65535"));
        let huge = Span::Finite(SimDuration::from_micros(u64::from(u32::MAX) * 1_000_000));
        assert!(Scale::new(1).unwrap().session_expiry(huge).unwrap_err().contains("136 years"));
    }

    #[test]
    fn a_scenario_is_checked_field_by_field() {
        let mut p = Params::default();
        assert_eq!(Scale::new(30).unwrap().check(&p), Ok((60, 60)));
        p.retention = Span::Finite(45 * SECOND);
        let (field, why) = Scale::new(30).unwrap().check(&p).unwrap_err();
        assert_eq!(field, "retention");
        assert!(why.contains("1.500 s"), "{why}");
    }
}
