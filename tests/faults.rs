//! Fault scenarios: each keeps the conservation laws and ends the way the fault says.

mod common;
use common::*;
use impsim::run::Report;

fn laws(r: &Report) {
    let c = &r.outcome.census;
    assert!(r.outcome.stalled_at.is_none());
    assert_eq!(c.sessions_established, c.sessions_ended + c.sessions_live);
    assert_eq!(c.contexts_created, c.contexts_live + c.contexts_retained + c.contexts_gone);
    assert_eq!(r.get("fail_unknown"), 0.0);
}

#[test]
fn a_storm_of_simultaneous_reconnects_after_a_restart_is_absorbed() {
    // 300 clients notice the restart at the same instant and queue at a single slow worker.
    let (r, _) = run(quiet(&[
        "clients=300",
        "sap.restarts=[\"3h\"]",
        "sap.restart_downtime=30s",
        "sap.restart_detect=0s",
        "sap.restart_keeps_retained=true",
        "sap.workers=1",
        "sap.service.login=50ms",
        "client.request_timeout=5s",
    ]));
    laws(&r);
    assert_eq!(count(&r, "restart_drops"), 300);
    assert!(count(&r, "retries") > 0, "the burst overflows the worker and clients retry");
    assert_eq!(count(&r, "recovery_successes"), 300, "every context kept through the restart is recovered");
    assert_eq!(r.outcome.census.sessions_live, 300, "everyone is back by the end");
    assert!(r.get("restore_recovered_ms_p99") > 5_000.0, "the last ones waited behind the queue");
}

#[test]
fn a_restart_that_loses_contexts_turns_every_return_into_a_502_and_a_fresh_login() {
    let (r, _) = run(quiet(&["clients=50", "sap.restarts=[\"3h\"]", "sap.restart_detect=0s"]));
    laws(&r);
    assert_eq!(count(&r, "fail_restart"), 50);
    assert_eq!(count(&r, "logins_after_502"), 50);
    assert_eq!(r.outcome.census.sessions_live, 50);
}

#[test]
fn a_client_that_never_comes_back_leaves_a_context_that_expires() {
    let (r, _) = run(quiet(&[
        "client.abandon_prob=1",
        "client.replace_abandoned=false",
        "client.session_length=1h",
        "client.logout_prob=1",
    ]));
    laws(&r);
    assert_eq!(count(&r, "abandoned"), 1);
    assert_eq!(r.outcome.census.sessions_live, 0);
    assert_eq!(count(&r, "contexts_expired"), 1);
    assert_eq!(r.outcome.census.contexts_retained, 0);
}

#[test]
fn clients_that_change_client_id_every_session_never_recover() {
    let (r, _) = run(quiet(&[
        "clients=20",
        "client.client_id_change_prob=1",
        "client.session_length=1h",
        "client.logout_prob=1",
        "retention=2h",
    ]));
    laws(&r);
    let attempts = count(&r, "recovery_attempts");
    assert!(attempts >= 20 * 4);
    assert_eq!(count(&r, "fail_client_changed"), attempts);
    // Orphans only leave by expiry: at most two sessions' worth per client are ever held.
    assert!(count(&r, "retained_contexts_peak") <= 40);
}

#[test]
fn retention_caps_hit_continuously_evict_oldest_first() {
    let (r, _) = run(quiet(&[
        "clients=30",
        "retention=infinite",
        "store.max_contexts=3",
        "client.session_length={dist=\"exponential\",mean=\"30m\"}",
        "client.offline={dist=\"exponential\",mean=\"45m\"}",
        "client.logout_prob=1",
    ]));
    laws(&r);
    assert_eq!(count(&r, "retained_contexts_peak"), 3);
    assert!(count(&r, "contexts_evicted") > 100);
    assert!(count(&r, "fail_evicted") > 100);
    // The three most recent survive: the few recoveries that succeed are quick returns.
    assert!(count(&r, "recovery_successes") < count(&r, "fail_evicted"));
}
