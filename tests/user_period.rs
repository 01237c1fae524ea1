//! The user's period of use is behaviour: the user starts it (coming back to the client) and
//! ends it (logout or walking away) after `session_length`. Protocol sessions live inside it: a
//! continuation after an outage, a SAP Disconnect and re-login, a 502 and fresh login never move
//! its end.

mod common;
use common::*;
use impsim::model::cost::Primitive as P;

/// A user who walks away and comes back within the TTL continues the session (a KeepAlive
/// probe) and then uses it for a whole new period, not leaving again at once.
#[test]
fn a_user_back_within_the_ttl_uses_the_session_for_a_whole_period() {
    // 2 h of use, then 1 min away (well within the 10 min TTL): periods start at about
    // 0, 2h01, 4h02, 6h03, 8h04 over 10 h, so four returns continue the session.
    let (r, trace) = run(quiet(&["client.session_length=2h", "client.offline=1m"]));
    assert_eq!(count(&r, "session_continuations"), 4, "one continuation per return");
    assert_eq!(count(&r, "logins_fresh"), 1);
    assert_eq!(count(&r, "auto_logouts"), 0);
    // Online nearly all the time: a KeepAlive every 8 min (0.8 x 10 min) over ~10 h.
    let keepalives = trace.iter().filter(|t| t.primitive == P::KeepAlive).count();
    assert!(keepalives >= 70, "{keepalives} KeepAlives: the user left again at once");
}

/// Forced re-logins (SAP Disconnects every hour) do not lengthen the user's period of use: a
/// user who uses the client for 3 h logs out 3 h after coming back, however many sessions the
/// SAP made it set up meanwhile.
#[test]
fn forced_relogins_do_not_move_the_end_of_the_period_of_use() {
    let (r, trace) = run(quiet(&[
        "client.session_length=3h",
        "client.offline=1h",
        "client.logout_prob=1",
        "sap.disconnect_every=1h",
        "client.relogin_delay=1m",
    ]));
    // Periods: [0, 3h] and [4h, 7h] (then 8h to 10h, cut by the end of the run).
    let logouts: Vec<u64> = trace.iter().filter(|t| t.primitive == P::Logout).map(|t| t.time.as_micros()).collect();
    assert_eq!(logouts.len(), 2, "logouts at {logouts:?}");
    assert!(count(&r, "sap_disconnects") >= 4, "the SAP forced re-logins");
    // Each logout is 3 h after its period began, give or take the network (100 ms round trips):
    // the first began at 0, the second 1 h after the first logout.
    let close = |used: u64| (180 * MIN..180 * MIN + 5 * SEC).contains(&used);
    assert!(close(logouts[0]), "first period used for {} s", logouts[0] / SEC);
    let used = logouts[1] - (logouts[0] + 60 * MIN);
    assert!(close(used), "second period used for {} s", used / SEC);
}

/// A period of use that ends while the device is off ends there: the user does not come back
/// online when the device does.
#[test]
fn a_period_that_ends_during_an_outage_is_over_when_the_client_is_back() {
    // Device off at 1h for 2h; the period ends at 1h30, during the outage. Offline 5h after.
    let (r, trace) = run(quiet(&[
        "client.session_length=90m",
        "client.offline=5h",
        "device_off.every=1h",
        "device_off.duration=2h",
    ]));
    assert_eq!(count(&r, "device_offs"), 2, "one per period of use (0h and 8h)");
    // Nothing is sent between the outage's end (3h) and the next period (8h).
    assert!(
        !trace.iter().any(|t| t.time.as_micros() > 3 * 60 * MIN && t.time.as_micros() < 8 * 60 * MIN),
        "the user came back online"
    );
}
