//! Rules of the session logic in src/model/sim/ that the S-rule tests leave open: where
//! each boundary of S8, S10, S16, S17 and S20 falls, and how a restart ends sessions. Each
//! test names the rule it checks and asserts exact counts or an exact trace on a small
//! scenario (the quiet single client unless said otherwise).

mod common;
use common::*;
use impsim::model::Transaction;
use impsim::model::cost::{Primitive as P, Syntax, TrafficCost};
use impsim::model::sap::Status;

fn rows(trace: &[Transaction], p: P) -> Vec<&Transaction> {
    trace.iter().filter(|t| t.primitive == p).collect()
}

const MS: u64 = 1_000;

/// S8: the SAP disconnects a session at the time drawn when it was set up, however that time
/// falls against the auto-logout checks of a session kept alive by KeepAlives: before the first
/// deadline, between two checks, exactly at a check, or many checks later.
#[test]
fn s08_a_disconnect_comes_at_its_time_wherever_it_falls_among_the_auto_logout_checks() {
    // The session is set up when the login arrives (50 ms); its last negotiation arrives at
    // 950 ms and KeepAlives every 8 min after that: the SAP looks at the deadline at
    // 10 min 50 ms, then 18 min 950 ms, 26 min 950 ms, ... (each time 10 min after an arrival).
    for (every, at) in [
        ("5m", 5 * MIN + 50 * MS),
        ("15m", 15 * MIN + 50 * MS),
        ("1560900ms", 26 * MIN + 950 * MS),
        ("1080900ms", 18 * MIN + 950 * MS),
        ("101m", 101 * MIN + 50 * MS),
    ] {
        let (r, trace) = run(quiet(&[&format!("sap.disconnect_every={every}"), "client.relogin_delay=1m"]));
        let d = rows(&trace, P::Disconnect);
        assert!(!d.is_empty(), "disconnect_every={every}: the session was never disconnected");
        assert_eq!(d[0].time.as_micros(), at, "disconnect_every={every}");
        assert_eq!(count(&r, "auto_logouts"), 0, "disconnect_every={every}");
    }
}

/// S3, S17: a Disconnect of a session whose client has since become another client (here the
/// user abandoned it and a new Client-ID took the slot) is still sent, in the syntax of the
/// old session's login, and reaches no one: nothing logs in with the old Session-ID.
#[test]
fn s03_s17_a_disconnect_of_an_earlier_client_ids_session_is_billed_in_that_sessions_syntax() {
    let p = quiet(&[
        "clients=24",
        "client.syntaxes={xml=1.0,wbxml=1.0,pts=1.0}",
        "client.session_length=1h",
        "client.logout_prob=0",
        "client.abandon_prob=1",
        "client.offline=5h",
        // Online from 0 to 1h, then the session lives on at the SAP until about 67 min.
        "sap.disconnect_every=65m",
    ]);
    let cost = TrafficCost::new(&p.cost.messages);
    let syntax = |t: &Transaction| -> Syntax {
        let fits: Vec<Syntax> = Syntax::ALL.into_iter().filter(|&s| cost.bytes(t.primitive, s) == t.bytes).collect();
        assert_eq!(fits.len(), 1, "the bytes of {t:?} name no single syntax");
        fits[0]
    };
    let (r, trace) = run(p);
    // Each client is abandoned after each of its two periods of use (0 to 1h, 6h to 7h).
    assert_eq!(count(&r, "abandoned"), 48);
    let mut changed = 0;
    for c in 0..24 {
        let mine: Vec<&Transaction> = trace.iter().filter(|t| t.client == c).collect();
        let logins: Vec<&&Transaction> = mine.iter().filter(|t| t.primitive == P::Login).collect();
        let (old, new) = (logins[0], logins[1]);
        assert!(
            new.time.as_micros() > 6 * 60 * MIN,
            "the new client logs in when its user first comes, at {}",
            new.time.as_micros()
        );
        let d = mine.iter().find(|t| t.primitive == P::Disconnect).expect("the old session is disconnected");
        assert_eq!(d.time.as_micros(), 65 * MIN + 50 * MS);
        assert_eq!(syntax(d), syntax(old), "client {c}: the Disconnect is in the old session's syntax");
        // It reaches no one: the next transaction of the slot is the new client's fresh login.
        let next = mine.iter().find(|t| t.time.as_micros() > d.time.as_micros()).unwrap();
        assert_eq!(
            (next.primitive, next.inband, next.time.as_micros()),
            (P::Login, false, new.time.as_micros()),
            "client {c}"
        );
        if syntax(new) != syntax(old) {
            changed += 1;
        }
    }
    assert!(changed >= 8, "only {changed} new Client-IDs chose another syntax");
}

/// S8, restarts: the clients that were online when the SAP restarted notice it
/// `restart_detect` after the SAP is back and log in again at once (with the old Session-ID).
#[test]
fn restart_online_clients_log_in_again_restart_detect_after_the_sap_is_back() {
    for (detect, delay) in [("0s", 0), ("30s", 30 * SEC)] {
        let (r, trace) =
            run(quiet(&["sap.restarts=[\"3h\"]", "sap.restart_downtime=1m", &format!("sap.restart_detect={detect}")]));
        assert_eq!(count(&r, "restart_drops"), 1);
        let l = trace.iter().find(|t| t.time.as_micros() > 3 * 60 * MIN).expect("a transaction after the restart");
        assert_eq!((l.primitive, l.inband, l.session_id), (P::Login, true, 1), "{l:?}");
        // Sent when the client notices, it arrives half a round trip later.
        assert_eq!(l.time.as_micros(), 3 * 60 * MIN + MIN + delay + 50 * MS, "restart_detect={detect}");
        assert_eq!(l.status, Status::RecoveryFailed, "the restart lost the context");
        assert!(!trace.iter().any(|t| t.status == Status::SessionInvalid), "no 604: the client knew");
    }
}

/// S16 with a restart that loses the store: the sessions it ends leave no context, each counted
/// as lost in the restart (not as "not stored", whatever the retention), and nothing is ever
/// counted as retained; each client's recovery then fails with that reason.
#[test]
fn restart_that_loses_the_store_retains_nothing_of_the_sessions_it_ends() {
    for retention in ["0s", "30m"] {
        let (r, _) = run(quiet(&[
            "clients=5",
            &format!("retention={retention}"),
            "sap.restarts=[\"3h\"]",
            "sap.restart_detect=0s",
        ]));
        assert_eq!(count(&r, "restart_drops"), 5, "retention={retention}");
        assert_eq!(count(&r, "contexts_lost_restart"), 5, "retention={retention}");
        assert_eq!(count(&r, "contexts_not_stored"), 0, "retention={retention}");
        assert_eq!(count(&r, "retained_contexts_peak"), 0, "retention={retention}");
        assert_eq!(count(&r, "fail_restart"), 5, "retention={retention}");
        assert_eq!(count(&r, "recovery_attempts"), 5, "retention={retention}");
    }
    // Contrast: a restart that keeps the store retains the sessions it ends, for the retention
    // period, and each client recovers its own.
    let (r, _) =
        run(quiet(&["clients=5", "sap.restarts=[\"3h\"]", "sap.restart_detect=0s", "sap.restart_keeps_retained=true"]));
    assert_eq!(count(&r, "restart_drops"), 5);
    assert_eq!(count(&r, "contexts_lost_restart"), 0);
    assert_eq!(count(&r, "retained_contexts_peak"), 5);
    assert_eq!(count(&r, "recovery_successes"), 5);
    assert_eq!(count(&r, "recovery_attempts"), 5);
}

/// S8 and the period of use: a client told to log in again whose user's period of use has
/// ended by the time its relogin delay is over does not log in: it goes offline until its
/// user comes back.
#[test]
fn s08_no_relogin_after_a_disconnect_once_the_period_of_use_is_over() {
    // Period of use 0 to 1h; the Disconnect at 59 min 50 ms, the re-login due at 60 min 100 ms.
    let (_, trace) = run(quiet(&[
        "client.session_length=1h",
        "client.offline=5h",
        "sap.disconnect_every=59m",
        "client.relogin_delay=1m",
    ]));
    let d = rows(&trace, P::Disconnect)[0];
    assert_eq!(d.time.as_micros(), 59 * MIN + 50 * MS);
    let next = trace.iter().find(|t| t.time.as_micros() > d.time.as_micros()).expect("the user comes back");
    assert!(
        next.time.as_micros() > 6 * 60 * MIN,
        "the client logged in at {} ms, after its user had left",
        next.time.as_micros() / MS
    );
    assert_eq!((next.primitive, next.inband, next.session_id), (P::Login, true, d.session_id));
    // Contrast: a period that lasts past the relogin delay logs in again after it.
    let (_, trace) = run(quiet(&[
        "client.session_length=61m",
        "client.offline=5h",
        "sap.disconnect_every=59m",
        "client.relogin_delay=1m",
    ]));
    let next = trace.iter().find(|t| t.time.as_micros() > d.time.as_micros()).unwrap();
    assert_eq!((next.primitive, next.time.as_micros()), (P::Login, 60 * MIN + 150 * MS));
}

/// S17: a client may change its Client-ID only when its user comes back to it after a period
/// away, never at its first login nor when it is back from a transport break.
#[test]
fn s17_client_id_changes_only_when_the_user_comes_back() {
    let (r, _) = run(quiet(&[
        "retention=infinite",
        "client.client_id_change_prob=1",
        "client.session_length=1h",
        "client.logout_prob=1",
        "client.offline=1h",
        "transport_break.every=20m",
        "transport_break.duration=1m",
    ]));
    assert!(count(&r, "transport_breaks") >= 10, "{}", count(&r, "transport_breaks"));
    // Periods of use begin at about 0, 2h, 4h, 6h and 8h: four returns, four new Client-IDs.
    assert_eq!(count(&r, "client_id_changes"), 4);
    assert_eq!(count(&r, "logins_initial"), 1);
    assert_eq!(count(&r, "fail_client_changed"), 4);
}

/// S1, S10: a client back exactly one TTL after its last request judges its session over
/// (a request would reach the SAP at or after the deadline): it logs in, it does not probe.
/// One microsecond earlier it probes with a KeepAlive and continues the session.
#[test]
fn s01_s10_a_client_back_exactly_a_ttl_after_its_last_send_logs_in_without_probing() {
    // Online at 1 s; the last KeepAlive is sent at 8 min 900 ms; the break starts at 8 min 1 s.
    let run_back_after =
        |duration: &str| run(quiet(&["transport_break.every=8m", &format!("transport_break.duration={duration}")]));
    // Back at 18 min 900 ms = the KeepAlive's send time + 10 min.
    let (r, trace) = run_back_after("599900ms");
    let back: Vec<(P, bool, Status)> = trace
        .iter()
        .filter(|t| t.time.as_micros() > 9 * MIN)
        .take(1)
        .map(|t| (t.primitive, t.inband, t.status))
        .collect();
    assert_eq!(back, [(P::Login, true, Status::Ok)], "a recovery login, no KeepAlive probe");
    assert_eq!(trace.iter().find(|t| t.time.as_micros() > 9 * MIN).unwrap().time.as_micros(), 18 * MIN + 950 * MS);
    assert_eq!(count(&r, "recovery_successes"), count(&r, "transport_breaks"));
    assert_eq!(count(&r, "session_continuations"), 0);
    let (r, trace) = run_back_after("599899999us");
    let first = trace.iter().find(|t| t.time.as_micros() > 9 * MIN).unwrap();
    assert_eq!((first.primitive, first.status), (P::KeepAlive, Status::Ok), "{first:?}");
    assert_eq!(count(&r, "session_continuations"), count(&r, "transport_breaks"));
}

/// A response that reaches the client exactly at its request timeout is in time: no retry.
#[test]
fn a_response_arriving_exactly_at_the_timeout_is_accepted() {
    // Round trips of 100 ms and no service time: every response comes 100 ms after its request.
    let (r, trace) = run(quiet(&["client.request_timeout=100ms"]));
    assert_eq!(count(&r, "retries"), 0);
    assert_eq!(count(&r, "logins_fresh"), 1);
    assert!(trace.iter().all(|t| t.status == Status::Ok));
    // One microsecond less, and the login is retried.
    let (r, _) = run(quiet(&["client.request_timeout=99999us"]));
    assert!(count(&r, "retries") > 0);
}

/// Restarts: a request arriving while the SAP is down is dropped, and counted.
#[test]
fn requests_arriving_while_the_sap_is_down_are_dropped_and_counted() {
    // KeepAlives arrive at 8k min 950 ms: only the one at 184 min 950 ms falls in [180, 185) min.
    let (r, trace) = run(quiet(&["sap.restarts=[\"3h\"]", "sap.restart_downtime=5m"]));
    let dropped: Vec<(P, u64)> =
        trace.iter().filter(|t| t.status == Status::Dropped).map(|t| (t.primitive, t.time.as_micros())).collect();
    assert_eq!(dropped, [(P::KeepAlive, 184 * MIN + 950 * MS)]);
    assert_eq!(count(&r, "dropped_requests"), 1);
}

/// S16: a fresh login of a client whose previous session the SAP still holds live (the client
/// judged it over by its own clock) ends that session as a re-login, and its context counts as
/// replaced by the new session: not as "not stored", even with retention 0.
#[test]
fn s16_a_fresh_login_replaces_the_live_session_of_the_same_client() {
    let (r, _) = run(quiet(&[
        "clients=300",
        "retention=0s",
        "client.recover_prob=0",
        "network.rtt={dist=\"uniform\",min=\"0s\",max=\"60s\"}",
        "client.request_timeout=5m",
        "transport_break.every={dist=\"exponential\",mean=\"20m\"}",
        "transport_break.duration={dist=\"uniform\",min=\"9m\",max=\"11m\"}",
    ]));
    let relogins = count(&r, "relogin_drops");
    assert!(relogins >= 5, "{relogins} fresh logins found their session live");
    assert_eq!(count(&r, "contexts_replaced"), relogins);
    assert_eq!(count(&r, "contexts_not_stored"), count(&r, "auto_logouts"));
    assert_eq!(count(&r, "retained_contexts_peak"), 0);
}

/// The simulator's cost figure counts each restart as one event: with a client the SAP refused
/// (so a restart has no session to end and no client to warn), three restarts add three events.
#[test]
fn each_restart_is_one_event() {
    let events = |restarts: &str| {
        let (r, _) = run(quiet(&[
            "clients=3",
            "client.syntaxes={xml=1.0}",
            "sap.syntaxes=[\"wbxml\"]",
            &format!("sap.restarts={restarts}"),
        ]));
        assert_eq!(count(&r, "logins_denied"), 3);
        count(&r, "events")
    };
    assert_eq!(events("[\"1h\", \"2h\", \"3h\"]"), events("[]") + 3);
}

/// Retention expiry is one event per expired context: a context kept 30 min costs one event
/// more than the same context kept for ever (the client here never comes back).
#[test]
fn each_expiry_is_one_event() {
    let run_with = |retention: &str| {
        let (r, _) = run(quiet(&[
            &format!("retention={retention}"),
            "client.session_length=1h",
            "client.logout_prob=1",
            "client.offline=100h",
        ]));
        r
    };
    let (kept, expiring) = (run_with("infinite"), run_with("30m"));
    assert_eq!(count(&expiring, "contexts_expired"), 1);
    assert_eq!(count(&kept, "contexts_expired"), 0);
    assert_eq!(count(&expiring, "events"), count(&kept, "events") + 1);
}

/// S16, S17: the context a client left under an earlier Client-ID is an orphan, no longer
/// linked to the slot's new client: when it expires later, that says nothing about the new
/// client's own sessions. A 502 for the new client's session names that session's fate.
#[test]
fn s17_an_orphaned_context_expiring_does_not_change_the_new_clients_502_reason() {
    // Periods of use of 5 min, 10 min apart; every return under a new Client-ID. Retention 0:
    // only a disconnected session is held (20 min, S8). Session 1 (from 50 ms) is disconnected
    // at 4 min 59.975 s, too late for a re-login in its period, so it is held till 25 min
    // unclaimed. At 16 min the new Client-ID's recovery gets 502 (Client-ID changed) and it
    // logs in afresh: session 2, which ends by Logout at 21 min, not stored. The orphan
    // expires at 25 min; at 31 min the next Client-ID's recovery of session 2 gets 502 because
    // session 2 was not stored.
    let (r, trace) = run(quiet(&[
        "duration=40m",
        "retention=0s",
        "client.client_id_change_prob=1",
        "client.session_length=5m",
        "client.offline=10m",
        "client.logout_prob=1",
        "sap.disconnect_every=299925ms",
        "sap.reestablish_within=20m",
    ]));
    let d = rows(&trace, P::Disconnect);
    assert_eq!(d.iter().map(|t| (t.time.as_micros(), t.session_id)).collect::<Vec<_>>(), [(299_975 * MS, 1)]);
    let failed: Vec<(u64, u64)> = trace
        .iter()
        .filter(|t| t.status == Status::RecoveryFailed)
        .map(|t| (t.time.as_micros(), t.session_id))
        .collect();
    assert_eq!(failed, [(16 * MIN + 75 * MS, 1), (31 * MIN + 125 * MS, 2)]);
    assert_eq!(count(&r, "contexts_expired"), 1, "the orphan expired");
    assert_eq!(count(&r, "fail_client_changed"), 1);
    assert_eq!(count(&r, "fail_not_stored"), 1, "session 2 was logged out with retention 0");
    assert_eq!(count(&r, "fail_expired"), 0);
}

/// The simulator's cost figure counts the SAP's ending of a session as one event, whichever
/// way it ends it: a session its user walked away from ends by one auto-logout, or, if the
/// SAP disconnects it first, by one Disconnect; the auto-logout checks before are the same.
#[test]
fn a_session_ended_by_disconnect_instead_of_auto_logout_costs_the_same_events() {
    let run_with = |disconnect: &str| {
        let (r, trace) = run(quiet(&[
            "retention=0s",
            "sap.reestablish_after_disconnect=false",
            "client.session_length=1h",
            "client.logout_prob=0",
            "client.abandon_prob=1",
            "client.replace_abandoned=false",
            &format!("sap.disconnect_every={disconnect}"),
        ]));
        (r, trace)
    };
    let (walked, _) = run_with("never");
    assert_eq!((count(&walked, "auto_logouts"), count(&walked, "sap_disconnects")), (1, 0));
    // Online until 1h; the session would auto-logout at 66 min 950 ms: disconnected before.
    let (disconnected, trace) = run_with("65m");
    assert_eq!((count(&disconnected, "auto_logouts"), count(&disconnected, "sap_disconnects")), (0, 1));
    assert_eq!(rows(&trace, P::Disconnect)[0].time.as_micros(), 65 * MIN + 50 * MS);
    assert_eq!(count(&disconnected, "events"), count(&walked, "events"));
}

/// A request that times out is sent again after `retry_backoff` x 2^(k-1) for its k-th retry
/// (capped at `retry_backoff_max`).
#[test]
fn a_timed_out_request_is_retried_after_the_backoff_of_its_retry_number() {
    // Every response comes 100 ms after its request, 1 us after the client gave up on it.
    let (_, trace) = run(quiet(&[
        "client.request_timeout=99999us",
        "client.retry_backoff=1s",
        "client.retry_backoff_max=10s",
        "duration=1m",
    ]));
    let logins: Vec<u64> =
        trace.iter().filter(|t| t.primitive == P::Login).map(|t| t.time.as_micros()).take(7).collect();
    let gaps: Vec<u64> = logins.windows(2).map(|w| w[1] - w[0]).collect();
    // Each retry leaves 99.999 ms (the timeout) plus its backoff after the previous attempt:
    // 1, 2, 4, 8 s, then the 10 s cap.
    let backoffs = [1u64, 2, 4, 8, 10, 10].map(|s| 99_999 + s * 1_000_000);
    assert_eq!(gaps, backoffs, "arrivals {logins:?}");
}

/// S17: an abandoned client is replaced by a new client with a new Client-ID, which neither
/// recovers nor replaces the abandoned one's context: each abandonment leaks one context under
/// infinite retention.
#[test]
fn s17_a_replacement_client_has_a_new_client_id_and_leaves_the_old_context_behind() {
    let (r, _) = run(quiet(&[
        "retention=infinite",
        "client.abandon_prob=1",
        "client.session_length=1h",
        "client.logout_prob=1",
    ]));
    let abandoned = count(&r, "abandoned");
    assert!(abandoned >= 3, "{abandoned}");
    assert_eq!(count(&r, "contexts_replaced"), 0, "another client's context is not replaced");
    assert_eq!(count(&r, "recovery_successes"), 0);
    assert_eq!(r.outcome.census.contexts_retained, abandoned, "each abandoned context is kept");
}

/// S10, S18: the SAP ends a session that hears nothing for a TTL, and the second LoginRequest
/// of a 4-way login is heard: the session's deadline runs from its arrival, not from the first
/// round's. With a 60 s round trip and KeepAlives 0.95 TTL after the client's last send, each
/// KeepAlive after a 4-way recovery arrives 30 s before that deadline, and 30 s after a
/// deadline counted from the first round.
#[test]
fn s10_s18_the_second_round_of_a_4_way_login_restarts_the_auto_logout_timer() {
    let (r, trace) = run(quiet(&[
        "client.four_way_share=1",
        "network.rtt=60s",
        "client.request_timeout=5m",
        "client.keepalive_ratio=0.95",
        "sap.disconnect_every=2h",
        "client.relogin_delay=1m",
    ]));
    assert!(count(&r, "recovery_successes") >= 3, "4-way recoveries happened");
    assert_eq!(count(&r, "recovery_attempts"), count(&r, "recovery_successes"));
    let refused: Vec<u64> =
        rows(&trace, P::KeepAlive).iter().filter(|t| t.status != Status::Ok).map(|t| t.time.as_micros()).collect();
    assert!(refused.is_empty(), "KeepAlives refused at {refused:?}");
    assert_eq!(count(&r, "auto_logouts"), 0);
    assert_eq!(count(&r, "logins_fresh"), 1, "only the initial login is fresh");
}

/// S8, S20: a login is initial once per client, for the first session the SAP sets up. Here
/// every session is disconnected 500 ms after it is set up, before its rebuild ends (950 ms), so
/// the client is never online; each re-login (S8 re-establishment off, retention 0: a 502,
/// then a fresh login) is a fresh login, not another initial one.
#[test]
fn s08_s20_a_client_disconnected_before_it_is_online_has_one_initial_login() {
    let (r, _) = run(quiet(&[
        "sap.disconnect_every=500ms",
        "sap.reestablish_after_disconnect=false",
        "retention=0s",
        "duration=1h",
    ]));
    assert!(count(&r, "logins_fresh") >= 10, "{}", count(&r, "logins_fresh"));
    assert_eq!(count(&r, "logins_initial"), 1);
}
