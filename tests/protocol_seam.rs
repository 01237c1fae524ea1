//! The protocol seam (src/model/protocol/): a protocol defined here, outside the crate, runs
//! through the same client, SAP and user behaviour with no edit to them, and its rules take
//! effect exactly where they should.

mod common;
use common::*;
use impsim::engine::time::{FOREVER, SimDuration, SimTime, after};
use impsim::model::cost::Primitive as P;
use impsim::model::metrics::EndReason;
use impsim::model::protocol::Protocol;
use impsim::model::protocol::imps::Imps;
use impsim::model::{Outcome, Params, Sim, Transaction};

/// IMPS, except that the server waits 1.5 times the granted keep-alive period before it ends a
/// silent session (MQTT 5's rule), and a client back from an outage reconnects rather than probes.
#[derive(Clone, Copy, Default)]
struct LenientTimeout;

impl Protocol for LenientTimeout {
    fn inactivity_timeout(&self, granted: SimDuration) -> SimDuration {
        if granted == FOREVER { FOREVER } else { granted + granted / 2 }
    }
    fn keepalive_interval(&self, granted: SimDuration, ratio: f64) -> SimDuration {
        Imps.keepalive_interval(granted, ratio)
    }
    fn probes_after_outage(&self) -> bool {
        false
    }
    fn negotiates_after_login(&self) -> bool {
        Imps.negotiates_after_login()
    }
    fn expires_at(&self, ended: SimTime, hold: SimDuration) -> SimTime {
        after(ended, hold)
    }
}

/// IMPS without the service and capability negotiation: the rebuild follows the login.
#[derive(Clone, Copy, Default)]
struct NoNegotiation;

impl Protocol for NoNegotiation {
    fn inactivity_timeout(&self, granted: SimDuration) -> SimDuration {
        Imps.inactivity_timeout(granted)
    }
    fn keepalive_interval(&self, granted: SimDuration, ratio: f64) -> SimDuration {
        Imps.keepalive_interval(granted, ratio)
    }
    fn probes_after_outage(&self) -> bool {
        Imps.probes_after_outage()
    }
    fn negotiates_after_login(&self) -> bool {
        false
    }
    fn expires_at(&self, ended: SimTime, hold: SimDuration) -> SimTime {
        Imps.expires_at(ended, hold)
    }
}

fn run_with<Q: Protocol>(p: Params, protocol: Q) -> (Outcome, Vec<Transaction>) {
    Sim::with_protocol(p, Vec::new(), protocol).run()
}

/// The user walks away at 60 min; the last KeepAlive arrived at 56 min 1 s (every 8 min from
/// the last negotiation at 950 ms), and the user is back 10 min later, at 70 min. Under IMPS the
/// session ended a TTL (10 min) after that KeepAlive, at 66 min 1 s, and the return recovers it
/// from the retained context; with a 15 min timeout the session is still live at 70 min and the
/// same login continues it.
#[test]
fn an_inactivity_timeout_rule_of_its_own_decides_whether_a_return_recovers_or_continues() {
    let p = quiet(&["client.session_length=1h", "client.offline=10m", "duration=75m"]);
    let (imps, _) = run_with(p.clone(), Imps);
    let (lenient, trace) = run_with(p, LenientTimeout);
    let c = &imps.metrics.c;
    assert_eq!(
        (c.recovery_successes, c.continuations, c.ended[EndReason::AutoLogout as usize]),
        (1, 0, 1),
        "IMPS: auto-logout, then recovery"
    );
    let c = &lenient.metrics.c;
    assert_eq!(
        (c.recovery_successes, c.continuations, c.ended[EndReason::AutoLogout as usize]),
        (0, 1, 0),
        "1.5 TTL: still live, continued"
    );
    // The client did not probe (it never does under this protocol): it logged in with its
    // Session-ID at 70 min, half a round trip before the SAP saw it.
    let back: Vec<&Transaction> = trace.iter().filter(|t| t.time.as_micros() > 60 * MIN).collect();
    assert_eq!((back[0].primitive, back[0].inband, back[0].time.as_micros()), (P::Login, true, 70 * MIN + 50_000));
}

/// A transport break of 2 min within the TTL: IMPS probes with a KeepAlive (S1); a protocol
/// that does not probe logs in with its Session-ID and finds the session live.
#[test]
fn a_client_that_does_not_probe_after_an_outage_logs_in_and_continues() {
    let p = quiet(&["transport_break.every=30m", "transport_break.duration=2m", "duration=40m"]);
    let (imps, imps_trace) = run_with(p.clone(), Imps);
    let (lenient, trace) = run_with(p, LenientTimeout);
    assert_eq!(imps.metrics.c.continuations, 1);
    assert_eq!(lenient.metrics.c.continuations, 1);
    let logins = |t: &[Transaction]| t.iter().filter(|t| t.primitive == P::Login).count();
    assert_eq!(logins(&imps_trace), 1, "IMPS continues with a KeepAlive probe");
    assert_eq!(logins(&trace), 2, "no probe: a login continues the session");
}

/// Without negotiation a fresh login is followed by the rebuild of the context alone; the
/// context is the same.
#[test]
fn a_protocol_without_negotiation_rebuilds_the_context_right_after_the_login() {
    let p = quiet(&["duration=10m"]);
    let (imps, imps_trace) = run_with(p.clone(), Imps);
    let (bare, trace) = run_with(p, NoNegotiation);
    let count = |t: &[Transaction], p: P| t.iter().filter(|t| t.primitive == p).count();
    assert_eq!((count(&imps_trace, P::Service), count(&imps_trace, P::ClientCapability)), (1, 1));
    assert_eq!((count(&trace, P::Service), count(&trace, P::ClientCapability)), (0, 0));
    for q in [P::SubscribePresence, P::SubscribeNotification, P::JoinGroup] {
        assert_eq!(count(&trace, q), count(&imps_trace, q), "{q:?}");
    }
    assert_eq!(bare.metrics.c.logins_fresh, 1);
    assert_eq!(bare.census.sessions_live, 1);
    assert_eq!(imps.census.sessions_live, 1);
    // Two round trips (100 ms each) fewer before the rebuild's first request.
    let first = |t: &[Transaction], q: P| t.iter().find(|t| t.primitive == q).unwrap().time;
    assert_eq!(
        first(&imps_trace, P::SubscribePresence) - first(&trace, P::SubscribePresence),
        SimDuration::from_micros(200_000)
    );
}

/// A scenario names its protocol; naming the default changes nothing, and the registry runs
/// what it names.
#[test]
fn a_scenario_that_names_imps_runs_exactly_as_one_that_names_none() {
    use impsim::model::protocol::ProtocolName;
    let named = quiet(&["protocol=\"imps\"", "transport_break.every=30m"]);
    assert_eq!(named.protocol, ProtocolName::Imps);
    assert_eq!(ProtocolName::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(), ["imps", "mqtt5"]);
    let (a, ta) = run(named);
    let (b, tb) = run(quiet(&["transport_break.every=30m"]));
    assert_eq!(format!("{:?}", a.summary), format!("{:?}", b.summary), "NaN prints as itself");
    assert_eq!(ta, tb);
}
