//! Fault scenarios: each keeps the conservation laws and ends the way the fault says.

mod common;
use common::*;
use impsim::model::cost::Primitive;
use impsim::model::sap::Status;
use impsim::run::Report;
use std::collections::{BTreeSet, VecDeque};

fn laws(r: &Report) {
    let c = &r.outcome.census;
    assert!(r.outcome.stalled_at.is_none());
    assert_eq!(c.sessions_established, c.sessions_ended + c.sessions_live);
    assert_eq!(c.contexts_created, c.contexts_live + c.contexts_retained + c.contexts_gone);
    assert_eq!(r.metric("fail_unknown"), 0.0);
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
    assert!(r.metric("restore_recovered_ms_p99") > 5_000.0, "the last ones waited behind the queue");
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
    // Every context of the quiet profile takes 1,584 bytes: either cap holds three.
    evicts_oldest_first("store.max_contexts=3");
    evicts_oldest_first("store.max_bytes=5000");
}

fn evicts_oldest_first(cap: &str) {
    const CAP: usize = 3;
    let (r, trace) = run(quiet(&[
        "clients=30",
        "retention=infinite",
        cap,
        "client.session_length={dist=\"exponential\",mean=\"30m\"}",
        "client.offline={dist=\"exponential\",mean=\"45m\"}",
        "client.logout_prob=1",
    ]));
    laws(&r);
    assert_eq!(count(&r, "retained_contexts_peak"), CAP as u64, "{cap}");
    // Replay the store from the trace. With infinite retention, no outages and recovery always
    // tried, a context is retained by its Logout, leaves by its recovery, and otherwise only
    // by eviction: whenever one more than the cap is retained, the oldest retained must go.
    let mut store: VecDeque<(u32, u64)> = VecDeque::new();
    let mut evicted: BTreeSet<(u32, u64)> = BTreeSet::new();
    let (mut recovered, mut failed) = (0u64, 0u64);
    for t in trace.iter().filter(|t| t.inband) {
        let key = (t.client, t.session_id);
        match (t.primitive, t.status) {
            (Primitive::Logout, _) => {
                store.push_back(key);
                if store.len() > CAP {
                    evicted.insert(store.pop_front().unwrap());
                }
            }
            (Primitive::Login, Status::Ok) => {
                let at = store.iter().position(|k| *k == key);
                assert!(
                    at.is_some(),
                    "{cap}: client {} recovered Session-ID {} at {}, whose context an oldest-first store had \
                     evicted (evicted earlier: {}); the store holds {:?}",
                    t.client,
                    t.session_id,
                    t.time.as_micros(),
                    evicted.contains(&key),
                    store
                );
                store.remove(at.unwrap());
                recovered += 1;
            }
            (Primitive::Login, Status::RecoveryFailed) => {
                assert!(
                    evicted.contains(&key),
                    "{cap}: client {} got a 502 for Session-ID {} at {}, but an oldest-first store still holds it: {:?}",
                    t.client,
                    t.session_id,
                    t.time.as_micros(),
                    store
                );
                failed += 1;
            }
            _ => {}
        }
    }
    assert_eq!(evicted.len() as u64, count(&r, "contexts_evicted"), "{cap}: the evictions the replay expects");
    assert_eq!(failed, count(&r, "fail_evicted"), "{cap}");
    assert_eq!(recovered, count(&r, "recovery_successes"), "{cap}");
    assert!(
        failed > 100 && recovered > 20,
        "{cap}: {failed} evicted returns and {recovered} recoveries: both must occur"
    );
}
