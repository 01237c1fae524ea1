//! A virtual client: one device with its Client-ID (S15), the Session-ID it holds, what it
//! believes about its session, and where it is in a login or rebuild exchange.

use super::context::{Gone, NONE};
use super::cost::{Rebuild, Syntax};
use super::sap::{SapSession, Status};
use crate::engine::{Time48, U48};

/// What the client is doing; decides what its pending timer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum State {
    /// No session in use: app closed or user away. Timer: the user comes back.
    Offline,
    /// Session up. Timer: the next KeepAlive, activity, outage or session end.
    Online,
    /// Transport broken (S1) or device off (S2). Timer: reachable again.
    Outage,
    /// A request is in flight. Timer: it reaches the SAP, or its response (or timeout) reaches the client.
    Exchange,
    /// Told of a SAP Disconnect (S8); waiting to log in again.
    WaitRelogin,
    /// Gone for good: abandoned (S17) or refused at login (S4).
    Dormant,
}

/// The request in flight during an `Exchange`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Step {
    /// KeepAlive after coming back, to learn whether the session survived (S1, S2).
    Probe,
    KeepAlive,
    Activity,
    Logout,
    VersionDiscovery,
    /// LoginRequest; round 1 carries the decision, round 2 completes 4-way access control.
    Login,
    Service,
    Capability,
    /// Rebuilding subscriptions and groups after a fresh login, one transaction each.
    Rebuild,
}

/// The longest run whose times all fit a `U48`.
pub(crate) const MAX_RUN: u64 = U48::MAX - 1;
// `scenario` refuses runs longer than 8 years, so every time up to the end fits a `U48`.
const _: () = assert!(8 * 365 * crate::engine::time::DAY.as_micros() < MAX_RUN);

macro_rules! flags {
    ($($(#[$doc:meta])* $get:ident, $set:ident = $bit:expr;)*) => {
        impl Client {
            $(
                $(#[$doc])*
                #[inline]
                pub(crate) fn $get(&self) -> bool {
                    self.flags & (1 << $bit) != 0
                }
                #[inline]
                pub(crate) fn $set(&mut self, v: bool) {
                    self.flags = (self.flags & !(1 << $bit)) | ((v as u16) << $bit);
                }
            )*
        }
    };
}

/// Everything one client slot needs. Kept flat and small (116 bytes): there may be millions,
/// and every event reads one at random, so its size is the simulator's memory and speed.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    /// Client-ID generation: a change (S17) makes the slot a different client to the SAP.
    pub(crate) identity: u32,
    /// Store index of this slot's retained context, if any.
    pub(crate) retained: u32,
    /// One-way delay of the in-flight request's way back, in microseconds.
    pub(crate) back_delay: u32,
    /// Draw counters of this client's random streams, by `Purpose`.
    pub(crate) draws: [u32; 4],
    /// The SAP's record of this client's session, kept beside the client for memory locality.
    pub(crate) sap: SapSession,
    /// Session-ID the client holds (0 = none).
    pub(crate) session_id: U48,
    /// When the client last sent a request (the in-flight one, during an exchange).
    pub(crate) last_send: Time48,
    pub(crate) restore_start: Time48,
    pub(crate) next_activity: Time48,
    pub(crate) next_break: Time48,
    pub(crate) next_off: Time48,
    /// When the user's current period of use ends: behaviour, drawn when the user starts
    /// using the client and moved by nothing the protocol does (a forced re-login, a 502 and
    /// a fresh login all happen inside it).
    pub(crate) use_end: Time48,
    /// Generation of the pending client timer (16 bits, as events carry it); older timers are stale.
    pub(crate) timer_gen: u16,
    pub(crate) rebuild_done: u16,
    /// The booleans below, one bit each.
    flags: u16,
    /// Subscriptions and groups of the current identity's context (the rest is recomputed).
    pub(crate) shape: Rebuild,
    pub(crate) state: State,
    pub(crate) step: Step,
    pub(crate) status: Status,
    pub(crate) retries: u8,
    /// Why this slot's last context left the store (the 502 reason if it tries to recover).
    pub(crate) fate: Gone,
    /// Version used at login (index into the known versions), and the one the client prefers.
    pub(crate) version: u8,
    pub(crate) preferred_version: u8,
    pub(crate) syntax: Syntax,
}

flags! {
    /// The in-flight request is on its way back (response or timeout) rather than out.
    returning_leg, set_returning_leg = 0;
    /// This login carries the old Session-ID (S18).
    recovering, set_recovering = 1;
    /// A recovery attempt is waiting for the SAP's verdict (counted once, whatever the retries).
    attempt_open, set_attempt_open = 2;
    /// The SAP re-established the session on the last login (so no negotiation follows).
    restored, set_restored = 3;
    /// The client believes its session may still be live.
    believes_live, set_believes_live = 4;
    /// The client had a context before: its next full login is a restore, and is timed.
    had_context, set_had_context = 5;
    after_502, set_after_502 = 6;
    after_discovery, set_after_discovery = 7;
    four_way, set_four_way = 8;
    /// The second LoginRequest of a 4-way login (S18).
    second_round, set_second_round = 9;
    /// The recovery login found the session still live: the SAP continued it (no recovery).
    continued, set_continued = 10;
    /// The SAP already set up a session for the login in flight: a retransmission of that
    /// request gets the same answer, not a second session.
    login_answered, set_login_answered = 11;
    /// A SAP Disconnect (S8) came while the client was in an exchange or an outage; it acts
    /// on it (a re-login after `relogin_delay`) as soon as it can, as an online client does.
    relogin_asked, set_relogin_asked = 12;
    /// A session was set up for this client before: its next fresh login is not its first.
    set_up_before, set_set_up_before = 13;
}

/// Per-client random streams (the entity is the client slot).
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub(crate) enum Purpose {
    Behaviour = 0,
    Network = 1,
    SapDisconnect = 2,
    Decision = 3,
    /// Drawn by (identity, part), so a profile can be recomputed and never shifts other draws.
    Profile = 16,
    Startup = 17,
}

impl Client {
    pub fn new() -> Self {
        Client {
            identity: 0,
            retained: NONE,
            back_delay: 0,
            draws: [0; 4],
            sap: SapSession::default(),
            session_id: U48::new(0),
            last_send: Time48::ZERO,
            restore_start: Time48::ZERO,
            next_activity: Time48::ZERO,
            next_break: Time48::ZERO,
            next_off: Time48::ZERO,
            use_end: Time48::ZERO,
            timer_gen: 0,
            rebuild_done: 0,
            flags: 0,
            shape: Rebuild::default(),
            state: State::Offline,
            step: Step::Login,
            status: Status::Ok,
            retries: 0,
            fate: Gone::Unknown,
            version: 0,
            preferred_version: 0,
            syntax: Syntax::Xml,
        }
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::NEVER;
    use crate::engine::time::SimTime;

    #[test]
    fn the_record_stays_small() {
        assert!(std::mem::size_of::<Client>() <= 116, "{}", std::mem::size_of::<Client>());
    }

    #[test]
    fn u48_round_trips_and_saturates_to_never() {
        for v in [0, 1, 65_535, 65_536, 1 << 32, MAX_RUN] {
            assert_eq!(U48::new(v).get(), v);
            assert_eq!(Time48::new(SimTime::from_micros(v)).get(), SimTime::from_micros(v));
        }
        assert_eq!(Time48::new(SimTime::from_micros(MAX_RUN + 1)).get(), NEVER);
        assert_eq!(Time48::new(NEVER).get(), NEVER);
    }

    #[test]
    fn flags_are_independent() {
        let mut c = Client::new();
        c.set_believes_live(true);
        c.set_second_round(true);
        assert!(c.believes_live() && c.second_round() && !c.had_context() && !c.returning_leg());
        c.set_believes_live(false);
        assert!(!c.believes_live() && c.second_round());
    }
}
