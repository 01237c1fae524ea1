//! A virtual client: one device with its Client-ID (S15), the Session-ID it holds, what it
//! believes about its session, and where it is in a login or rebuild exchange.

use super::context::{Gone, NONE};
use super::cost::{ContextShape, Syntax};
use super::sap::SapSession;

/// What the client is doing; decides what its pending timer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
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
pub enum Step {
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

/// Everything one client slot needs. Kept flat and small: there may be millions.
#[derive(Clone, Debug)]
pub struct Client {
    pub user: u32,
    /// Client-ID generation: a change (S17) makes the slot a different client to the SAP.
    pub identity: u32,
    /// Generation of the pending client timer; older timers are stale.
    pub timer_gen: u32,
    /// Store index of this slot's retained context, if any.
    pub retained: u32,
    pub state: State,
    pub step: Step,
    /// The in-flight request is on its way back (response or timeout) rather than out.
    pub returning_leg: bool,
    pub status: u8,
    pub login_round: u8,
    pub retries: u8,
    /// Why this slot's last context left the store (the 502 reason if it tries to recover).
    pub fate: Gone,
    /// This login carries the old Session-ID (S18).
    pub recovering: bool,
    /// A recovery attempt is waiting for the SAP's verdict (counted once, whatever the retries).
    pub attempt_open: bool,
    /// The SAP re-established the session on the last login (so no negotiation follows).
    pub restored: bool,
    /// The client believes its session may still be live.
    pub believes_live: bool,
    /// The client had a context before: its next full login is a restore, and is timed.
    pub had_context: bool,
    pub after_502: bool,
    pub after_discovery: bool,
    pub four_way: bool,
    /// Version used at login (index into the known versions), and the one the client prefers.
    pub version: u8,
    pub preferred_version: u8,
    pub syntax: Syntax,
    pub shape: ContextShape,
    pub rebuild_done: u16,
    pub ctx_bytes: u32,
    /// One-way delay of the in-flight request's way back, in microseconds.
    pub back_delay: u32,
    /// Session-ID the client holds (0 = none).
    pub session_id: u64,
    pub last_send: u64,
    pub send_at: u64,
    pub restore_start: u64,
    pub next_activity: u64,
    pub next_break: u64,
    pub next_off: u64,
    pub session_end: u64,
    /// Draw counters of this client's random streams, by `Purpose`.
    pub draws: [u32; 4],
    /// The SAP's record of this client's session, kept beside the client for memory locality.
    pub sap: SapSession,
}

/// Per-client random streams (the entity is the client slot).
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub enum Purpose {
    Behaviour = 0,
    Network = 1,
    SapDisconnect = 2,
    Decision = 3,
    /// Drawn by (identity, part), so a profile can be recomputed and never shifts other draws.
    Profile = 16,
    Startup = 17,
}

impl Client {
    pub fn new(user: u32) -> Self {
        Client {
            user,
            identity: 0,
            timer_gen: 0,
            retained: NONE,
            state: State::Offline,
            step: Step::Login,
            returning_leg: false,
            status: 0,
            login_round: 0,
            retries: 0,
            fate: Gone::Unknown,
            recovering: false,
            attempt_open: false,
            restored: false,
            believes_live: false,
            had_context: false,
            after_502: false,
            after_discovery: false,
            four_way: false,
            version: 0,
            preferred_version: 0,
            syntax: Syntax::Xml,
            shape: ContextShape::default(),
            rebuild_done: 0,
            ctx_bytes: 0,
            back_delay: 0,
            session_id: 0,
            last_send: 0,
            send_at: 0,
            restore_start: 0,
            next_activity: 0,
            next_break: 0,
            next_off: 0,
            session_end: 0,
            draws: [0; 4],
            sap: SapSession::default(),
        }
    }
}
