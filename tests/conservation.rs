//! Conservation on random populations: every session ends once or is still live; every
//! context is live, retained or gone (never two); every 502 is counted once.

mod common;
use common::*;
use impsim::model::Params;
use impsim::model::sap::Status;
use impsim::run::simulate;

fn check(p: Params) {
    let label = format!("{:?}", (&p.retention, &p.store.max_contexts, &p.sap.restarts, p.seed));
    let (r, trace) = simulate(p, Vec::new());
    let c = &r.outcome.census;
    assert_eq!(c.sessions_established, c.sessions_ended + c.sessions_live, "sessions: {label} {c:?}");
    assert_eq!(c.contexts_live, c.sessions_live, "one context per live session (S15): {label}");
    assert_eq!(c.contexts_created, c.contexts_live + c.contexts_retained + c.contexts_gone, "contexts: {label} {c:?}");
    // Whole-run counts (warm-up included), as the trace covers the whole run.
    let fails = whole_run(&r, |c| c.fail.iter().sum()) as f64;
    // Every failed recovery is one 502 the SAP sent for one (client, Session-ID): a retried
    // login gets the 502 again but is the same attempt, and a client never tries that ID again.
    let answered_502: std::collections::BTreeSet<(u32, u64)> =
        trace.iter().filter(|t| t.status == Status::RecoveryFailed).map(|t| (t.client, t.session_id)).collect();
    assert_eq!(fails, answered_502.len() as f64, "failures counted once each: {label}");
    // S20: each 502 is followed by at most one fresh login that the SAP really set up.
    let after_502 = whole_run(&r, |c| c.logins_after_502) as f64;
    assert!(after_502 <= fails, "{after_502} fresh logins after {fails} 502s: {label}");
    // ... and most 502s are followed by one (unless the user's period of use is over).
    assert!(after_502 >= 0.5 * fails, "{after_502} fresh logins after {fails} 502s: {label}");
    assert_eq!(whole_run(&r, |c| c.logins_fresh + c.recovery_successes), c.sessions_established);
    assert_eq!(whole_run(&r, |c| c.tx.iter().sum()) as usize, trace.len());
    assert_eq!(whole_run(&r, |c| c.tx_bytes.iter().sum()), trace.iter().map(|t| t.bytes as u64).sum::<u64>());
    // The summary covers the window after the warm-up only.
    let measured = trace.iter().filter(|t| t.time.as_micros() >= r.params.warmup.0.as_micros()).count();
    assert_eq!(r.metric("transactions") as usize, measured, "the summary's transactions are the window's: {label}");
    assert_eq!(c.retained_bytes, r.outcome.metrics.retained_bytes.value());
    assert!(r.metric("retained_contexts_peak") >= c.contexts_retained as f64);
    assert_eq!(r.metric("fail_unknown"), 0.0, "every 502 has a known reason: {label}");
}

#[test]
fn sessions_and_contexts_are_conserved_across_settings() {
    let variants: &[&[&str]] = &[
        &[],
        &["retention=0s"],
        &["retention=infinite", "client.client_id_change_prob=0.05", "client.abandon_prob=0.02"],
        &["retention=2h", "store.max_contexts=40"],
        &["retention=infinite", "store.max_bytes=50KiB"],
        &["sap.restarts=[\"3h\",\"7h\"]", "sap.restart_downtime=2m"],
        &["sap.restarts=[\"4h\"]", "sap.restart_keeps_retained=true", "sap.workers=1"],
        &["store.replace_scope=\"user\"", "client.recover_prob=0.5", "client.four_way_share=1"],
        &["client.versions={\"1.1\"=1.0,\"1.3\"=1.0}", "sap.versions=[\"1.2\",\"1.3\"]", "store.keep_on_logout=false"],
        &["client.request_timeout=1s", "sap.workers=1", "sap.service.login=300ms"],
    ];
    for (i, v) in variants.iter().enumerate() {
        let mut o = vec!["clients=300", "duration=12h", "warmup=3h"];
        o.extend_from_slice(v);
        let seed = format!("seed={}", 100 + i);
        o.push(&seed);
        check(default_scenario(&o));
    }
}

#[test]
fn caps_are_never_exceeded() {
    let (r, _) = simulate(
        default_scenario(&["clients=300", "duration=12h", "warmup=3h", "retention=infinite", "store.max_contexts=25"]),
        (),
    );
    assert_eq!(r.metric("retained_contexts_peak"), 25.0);
    assert!(r.metric("fail_evicted") > 0.0);
    let (r, _) = simulate(
        default_scenario(&["clients=300", "duration=12h", "warmup=3h", "retention=infinite", "store.max_bytes=40000"]),
        (),
    );
    assert!(r.metric("retained_bytes_peak") <= 40000.0);
    assert!(r.metric("contexts_evicted") > 0.0);
}

#[test]
fn restart_drops_every_session_and_loses_or_keeps_retained_contexts() {
    let lost = simulate(default_scenario(&["clients=400", "duration=8h", "warmup=1h", "sap.restarts=[\"4h\"]"]), ()).0;
    let kept = simulate(
        default_scenario(&[
            "clients=400",
            "duration=8h",
            "warmup=1h",
            "sap.restarts=[\"4h\"]",
            "sap.restart_keeps_retained=true",
        ]),
        (),
    )
    .0;
    for r in [&lost, &kept] {
        assert!(r.metric("restart_drops") > 300.0, "almost every client was online: {}", r.metric("restart_drops"));
        assert_eq!(r.metric("restarts"), 1.0);
    }
    assert!(lost.metric("fail_restart") > 300.0);
    assert_eq!(kept.metric("fail_restart"), 0.0);
    assert!(kept.metric("recovery_success_rate") > lost.metric("recovery_success_rate"));
    assert!(count(&lost, "contexts_lost_restart") > count(&kept, "contexts_lost_restart"));
}

#[test]
fn each_client_has_exactly_one_initial_login() {
    // Every client starts within the first 30 minutes; an initial login is a client's first
    // session ever (not a later fresh login after a 502, not a new Client-ID's, S17).
    for o in [
        &["clients=600", "duration=6h", "warmup=1h"][..],
        &["clients=600", "duration=6h", "warmup=1h", "client.client_id_change_prob=0.5"],
    ] {
        let r = simulate(default_scenario(o), ()).0;
        assert_eq!(whole_run(&r, |c| c.logins_initial), 600, "{o:?}");
        assert!(whole_run(&r, |c| c.logins_fresh) > 600, "{o:?}: later fresh logins are not initial");
    }
}
