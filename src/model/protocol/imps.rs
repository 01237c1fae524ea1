//! OMA IMPS (Wireless Village) CSP session management: the rules of docs/spec.md.

use super::Protocol;
use crate::engine::time::{FOREVER, SimDuration, SimTime, after};

/// OMA IMPS (Wireless Village) CSP session management, the rules of docs/spec.md.
#[derive(Clone, Copy, Debug, Default)]
pub struct Imps;

impl Protocol for Imps {
    /// S10: the SAP ends a session that hears nothing for its TimeToLive.
    #[inline]
    fn inactivity_timeout(&self, granted: SimDuration) -> SimDuration {
        granted
    }
    #[inline]
    fn keepalive_interval(&self, granted: SimDuration, ratio: f64) -> SimDuration {
        if granted == FOREVER {
            FOREVER
        } else {
            SimDuration::from_micros(((granted.as_micros() as f64 * ratio) as u64).max(1))
        }
    }
    /// S1, S2: a session survives a transport break or a power cycle within its TTL.
    #[inline]
    fn probes_after_outage(&self) -> bool {
        true
    }
    /// S12: a fresh login negotiates services, then client capabilities.
    #[inline]
    fn negotiates_after_login(&self) -> bool {
        true
    }
    /// S16: a context is kept for exactly the retention period.
    #[inline]
    fn expires_at(&self, ended: SimTime, hold: SimDuration) -> SimTime {
        after(ended, hold)
    }
}
