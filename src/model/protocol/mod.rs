//! The protocol seam: the rules that differ between session protocols with the same concepts
//! (a session, a keep-alive that ends it when silent, a retained context, recovery by logging in
//! with the old session's identity). The user's behaviour and the client and SAP state machines
//! in `sim/` call these rules and never name a protocol; a protocol is a type implementing
//! [`Protocol`], used with static dispatch (`Sim<O, P>`), so its rules inline into the handlers
//! at no cost.
//!
//! Adding a protocol: a new file in this folder with a type implementing [`Protocol`] (and
//! `Default`), and one line in the `protocols!` registry below, which names it in scenarios
//! (`protocol = "..."`). A program using the library can also run a protocol of its own without
//! registering it: `Sim::with_protocol(params, observer, MyProtocol)`.

use super::params::{MessageBytes, Params};
use crate::engine::time::{SimDuration, SimTime, after};
use serde::{Deserialize, Serialize};

/// The rules of one session protocol, as the simulated client and server apply them.
pub trait Protocol: Clone {
    /// The protocol as scenario `p` configures it (e.g. a broker's clock); by default, its
    /// `Default`.
    fn configured(_p: &Params) -> Self
    where
        Self: Sized + Default,
    {
        Self::default()
    }

    /// How long the server waits, hearing nothing, before it ends a session whose granted
    /// keep-alive period (IMPS: the TimeToLive, S10) is `granted`. `FOREVER` for a session
    /// that never times out.
    fn inactivity_timeout(&self, granted: SimDuration) -> SimDuration;

    /// How long after its last request the client sends a keep-alive, given the granted
    /// period and the scenario's `client.keepalive_ratio`; at least 1 microsecond.
    fn keepalive_interval(&self, granted: SimDuration, ratio: f64) -> SimDuration;

    /// Whether a client back from an outage, believing its session still live, first asks
    /// with a keep-alive whether it survived (IMPS S1, S2) rather than logging in at once.
    fn probes_after_outage(&self) -> bool;

    /// Whether a fresh login negotiates services and capabilities (IMPS S12) before the
    /// context is rebuilt; without, the rebuild follows the login at once.
    fn negotiates_after_login(&self) -> bool;

    /// When a context retained for `hold` after its session ended at `ended` expires (a
    /// server may count in coarser units).
    fn expires_at(&self, ended: SimTime, hold: SimDuration) -> SimTime;

    /// Whether a failed recovery already sets up a fresh session (MQTT 5: CONNACK with Session
    /// Present = 0), so the client goes on to rebuild its context; without (IMPS S20), the
    /// client gets a 502 and logs in again.
    #[inline]
    fn fresh_session_on_failed_recovery(&self) -> bool {
        false
    }

    /// When the server ends a session it last heard from at `last_heard`, if nothing more
    /// arrives (`timeout` is `inactivity_timeout` of the granted period). By default exactly
    /// `timeout` later; a server that checks its timers coarsely ends it later.
    #[inline]
    fn session_deadline(&self, last_heard: SimTime, timeout: SimDuration) -> SimTime {
        after(last_heard, timeout)
    }

    /// The bytes each exchange costs on the wire, given the scenario's `[cost.messages]`
    /// table; by default that table.
    fn message_bytes(&self, scenario: &MessageBytes) -> MessageBytes {
        scenario.clone()
    }
}

/// Something to do with whichever protocol a scenario names: `ProtocolName::dispatch` calls
/// `with` with that protocol's type, so the caller is compiled once per protocol (static
/// dispatch) and this module needs to know nothing of the caller.
pub(crate) trait WithProtocol {
    type Output;
    /// The scenario that configures the protocol.
    fn params(&self) -> &Params;
    fn with<P: Protocol>(self, protocol: P) -> Self::Output;
}

/// The registry: one line per protocol, `file::Type => "name in scenarios"`. It declares the
/// protocol's module, the `ProtocolName` a scenario gives, and the dispatch to its type.
macro_rules! protocols {
    ($($file:ident :: $ty:ident => $name:literal,)*) => {
        $(pub mod $file;)*

        /// The protocol a scenario simulates (`protocol = "..."`; the first is the default).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub enum ProtocolName {
            #[default]
            $(#[doc = concat!("Selected by `protocol = \"", $name, "\"`.")] #[serde(rename = $name)] $ty,)*
        }

        impl ProtocolName {
            /// Every registered protocol.
            pub const ALL: &[ProtocolName] = &[$(ProtocolName::$ty,)*];
            /// The name a scenario gives.
            pub fn name(self) -> &'static str {
                match self {
                    $(ProtocolName::$ty => $name,)*
                }
            }
            /// Run `w` with this protocol's type.
            pub(crate) fn dispatch<W: WithProtocol>(self, w: W) -> W::Output {
                match self {
                    $(ProtocolName::$ty => {
                        let protocol = <$file::$ty as Protocol>::configured(w.params());
                        w.with(protocol)
                    })*
                }
            }
        }
    };
}

protocols! {
    imps::Imps => "imps",
    mqtt5::Mqtt5 => "mqtt5",
}

impl ProtocolName {
    /// Serde's `skip_serializing_if`: the default is left out of written scenarios, so results
    /// written before protocols were selectable stay byte-identical.
    pub(crate) fn is_default(&self) -> bool {
        *self == ProtocolName::default()
    }
}
