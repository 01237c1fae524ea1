//! Fuzzing: mutated scenario text never makes impsim panic, hang or overflow simulated time,
//! and random valid scenarios keep the model's invariants. CI runs a bounded, seeded number of
//! cases; for a longer search: FUZZ_CASES=20000 FUZZ_SEED=7 cargo test --test fuzz -- --nocapture

mod common;
use impsim::model::Params;
use impsim::model::cost::Primitive;
use impsim::model::sap::Status;
use impsim::run::simulate;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

fn runner(default_cases: u32) -> TestRunner {
    let cases = std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Small enough to run in milliseconds, whatever the fuzzer wrote.
fn shrink(mut p: Params) -> Params {
    p.clients = p.clients.min(40);
    p.duration.0 = p.duration.0.min(6 * impsim::engine::time::HOUR);
    p.warmup.0 = p.warmup.0.min(p.duration.0 / 2);
    p
}

/// The laws every finished run obeys.
fn check_invariants(p: Params) -> Result<(), TestCaseError> {
    let (r, trace) = simulate(shrink(p), Vec::new());
    prop_assert!(r.outcome.stalled_at.is_none(), "simulated time stalled at {:?}", r.outcome.stalled_at);
    let c = &r.outcome.census;
    prop_assert_eq!(c.sessions_established, c.sessions_ended + c.sessions_live, "every session ends once");
    prop_assert_eq!(c.contexts_live, c.sessions_live);
    prop_assert_eq!(
        c.contexts_created,
        c.contexts_live + c.contexts_retained + c.contexts_gone,
        "live, retained or gone"
    );
    // 502 accounting (S20), over the whole run (the trace covers the warm-up too). Every 502
    // answers a recovery login: inband, with the Session-ID.
    let fails = common::whole_run(&r, |c| c.fail.iter().sum()) as f64;
    let rows_502: Vec<_> = trace.iter().filter(|t| t.status == Status::RecoveryFailed).collect();
    prop_assert!(
        rows_502.iter().all(|t| t.primitive == Primitive::Login && t.inband && t.session_id != 0),
        "a 502 that does not answer a recovery login"
    );
    // A retransmitted login gets the SAP's first answer, so a failure is counted once per
    // attempt: never more failures than 502s sent, and at least one per (client, Session-ID)
    // answered 502. (Exactly one per pair, as tests/conservation.rs checks, holds when clients
    // receive their 502s; here round trips may exceed the timeout every time, and a client that
    // never heard its 502 may try the same Session-ID again after a Disconnect: a new attempt.)
    let answered_502: BTreeSet<(u32, u64)> = rows_502.iter().map(|t| (t.client, t.session_id)).collect();
    prop_assert!(fails <= rows_502.len() as f64, "{} failures counted for {} 502s sent", fails, rows_502.len());
    prop_assert!(
        fails >= answered_502.len() as f64,
        "{} failures counted, but {} (client, Session-ID) were answered 502",
        fails,
        answered_502.len()
    );
    // At most one fresh login after each 502 (S20), and every session set up is counted once,
    // as a fresh login or as a recovery.
    let after_502 = common::whole_run(&r, |c| c.logins_after_502) as f64;
    prop_assert!(after_502 <= fails, "{} fresh logins after {} 502s", after_502, fails);
    prop_assert_eq!(common::whole_run(&r, |c| c.logins_fresh + c.recovery_successes), c.sessions_established);
    prop_assert_eq!(r.metric("fail_unknown"), 0.0);
    prop_assert_eq!(common::whole_run(&r, |c| c.tx.iter().sum()) as usize, trace.len());
    prop_assert_eq!(c.retained_bytes, r.outcome.metrics.retained_bytes.value());
    prop_assert!(trace.windows(2).all(|w| w[0].time.as_micros() <= w[1].time.as_micros()), "time never runs backwards");
    prop_assert!(trace.last().is_none_or(|t| t.time <= r.outcome.end));
    Ok(())
}

const TOKENS: &[&str] = &[
    "-",
    "0",
    "0s",
    "-1s",
    "1e309",
    "nan",
    "inf",
    "\"",
    "[",
    "]",
    "{",
    "}",
    "=",
    "\n",
    "infinite",
    "never",
    "99999999999999d",
    "18446744073709551615",
    "{dist=\"pareto\",shape=0.05,scale=\"1us\"}",
    "{dist=\"weibull\",shape=0.01,scale=\"1h\"}",
    "{dist=\"lognormal\",median=\"1s\",sigma=50}",
    "{dist=\"uniform\",min=\"0s\",max=\"0s\"}",
    "{dist=\"exponential\",mean=\"1us\"}",
    "{dist=\"fixed\",value=\"0s\"}",
    "\"1us\"",
    "\"0s\"",
    "4294967296",
    "-5",
    "1.5",
    "true",
    "\"xml\"",
    "[]",
    "\"1.9\"",
];

#[test]
fn mutated_scenario_text_never_panics_hangs_or_breaks_invariants() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml")).unwrap();
    let lines: Vec<String> = text.lines().map(String::from).collect();
    let n = lines.len();
    let strategy = proptest::collection::vec((0..n, 0..TOKENS.len(), 0..4u8, any::<u8>()), 1..4);
    let (parsed, refused) = (Cell::new(0u32), Cell::new(0u32));
    runner(300)
        .run(&strategy, |edits| {
            let mut l = lines.clone();
            for (line, tok, how, byte) in edits {
                let t = TOKENS[tok];
                match how {
                    // Replace the value after '=' on a line.
                    0 => {
                        if let Some(eq) = l[line].find('=') {
                            l[line] = format!("{}= {t}", &l[line][..eq]);
                        }
                    }
                    // Insert a token somewhere in the line.
                    1 => {
                        let at = (byte as usize).min(l[line].len());
                        if l[line].is_char_boundary(at) {
                            l[line].insert_str(at, t);
                        }
                    }
                    // Drop the line.
                    2 => l[line].clear(),
                    // Flip a character.
                    _ => {
                        let len = l[line].len();
                        let at = (byte as usize) % len.max(1);
                        let to = (at + 1).min(len);
                        if l[line].is_char_boundary(at) && l[line].is_char_boundary(to) {
                            l[line].replace_range(at..to, &((byte % 94 + 33) as char).to_string());
                        }
                    }
                }
            }
            let text = l.join("\n");
            let loaded = catch_unwind(|| impsim::scenario::parse(&text, "fuzz.toml", Path::new("experiments"), &[]));
            prop_assert!(loaded.is_ok(), "the loader panicked instead of refusing:\n{}", text);
            match loaded.unwrap() {
                Ok(p) => {
                    parsed.set(parsed.get() + 1);
                    check_invariants(p)?;
                }
                Err(e) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(!e.to_string().is_empty() && e.file == "fuzz.toml");
                }
            }
            Ok(())
        })
        .unwrap();
    let (ok, no) = (parsed.get(), refused.get());
    println!("scenario text: {ok} parsed and run, {no} refused with a message");
    // Most mutations break the text, but a loader that refuses (nearly) everything would leave
    // the invariants unexercised: at least a tenth of the mutated texts must load and run.
    assert!(no > 0, "no mutated text was refused");
    assert!(ok * 10 >= ok + no, "only {ok} of {} mutated texts loaded (at least 10% must)", ok + no);
}

fn duration_dist() -> impl Strategy<Value = String> {
    let secs = 1u64..20_000;
    prop_oneof![
        secs.clone().prop_map(|s| format!("\"{s}s\"")),
        secs.clone().prop_map(|s| format!("{{dist=\"exponential\",mean=\"{s}s\"}}")),
        (secs.clone(), 0.0f64..3.0).prop_map(|(s, g)| format!("{{dist=\"lognormal\",median=\"{s}s\",sigma={g}}}")),
        (secs.clone(), 0.2f64..5.0).prop_map(|(s, k)| format!("{{dist=\"weibull\",shape={k},scale=\"{s}s\"}}")),
        (secs.clone(), 0.3f64..4.0).prop_map(|(s, a)| format!("{{dist=\"pareto\",shape={a},scale=\"{s}ms\"}}")),
        (secs.clone(), secs).prop_map(|(a, b)| format!(
            "{{dist=\"uniform\",min=\"{}s\",max=\"{}s\"}}",
            a.min(b),
            a.max(b)
        )),
    ]
}

fn span() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"0s\"".to_string()),
        (1u64..50_000).prop_map(|s| format!("\"{s}s\"")),
        Just("\"infinite\"".to_string())
    ]
}

/// sap.ttl_max: at least the scenario's ttl_min (1m), or infinite; anything less is invalid.
fn ttl_max() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"1m\"".to_string()),
        (60u64..50_000).prop_map(|s| format!("\"{s}s\"")),
        Just("\"infinite\"".to_string())
    ]
}

#[test]
fn random_valid_scenarios_keep_the_invariants() {
    let fields = (
        (1u32..40, 1u64..12, span(), ttl_max(), 0u64..4, 0u64..20_000, any::<bool>(), any::<bool>()),
        (duration_dist(), duration_dist(), duration_dist(), duration_dist(), duration_dist(), duration_dist()),
        (0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..=0.5, 0.0f64..=0.5, 0.05f64..=1.0, 1u32..6, 0u64..3),
    );
    let ran = Cell::new(0u32);
    runner(200)
        .run(&fields, |(a, b, c)| {
            let (clients, hours, retention, ttl_max, max_contexts, max_bytes, keeps, user_scope) = a;
            let (offline, session, rtt, every, outage, disconnect) = b;
            let (logout, recover, four_way, churn, abandon, ka_ratio, workers, restarts) = c;
            let o = [
                format!("clients={clients}"),
                format!("duration=\"{hours}h\""),
                format!("warmup=\"{}m\"", hours * 15),
                format!("retention={retention}"),
                format!("sap.ttl_max={ttl_max}"),
                format!("store.max_contexts={max_contexts}"),
                format!("store.max_bytes={}", if max_bytes < 2_000 { 0 } else { max_bytes }),
                format!("sap.restart_keeps_retained={keeps}"),
                format!("store.replace_scope=\"{}\"", if user_scope { "user" } else { "client" }),
                format!("client.offline={offline}"),
                format!("client.session_length={session}"),
                format!("network.rtt={rtt}"),
                format!("transport_break.every={every}"),
                format!("transport_break.duration={outage}"),
                format!("sap.disconnect_every={disconnect}"),
                format!("client.logout_prob={logout}"),
                format!("client.recover_prob={recover}"),
                format!("client.four_way_share={four_way}"),
                format!("client.client_id_change_prob={churn}"),
                format!("client.abandon_prob={abandon}"),
                format!("client.keepalive_ratio={ka_ratio}"),
                format!("sap.workers={workers}"),
                format!("sap.restarts={:?}", (0..restarts).map(|i| format!("{}m", 30 + 97 * i)).collect::<Vec<_>>()),
                "sap.versions=[\"1.2\",\"1.3\"]".to_string(),
                "client.request_timeout=\"5s\"".to_string(),
            ];
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
            // Every generated scenario is valid (ttl_max >= ttl_min, max_bytes 0 or above one
            // context): the loader must accept each one, and never panic.
            let loaded = catch_unwind(AssertUnwindSafe(|| impsim::scenario::load(&path, &o)));
            prop_assert!(loaded.is_ok(), "the loader panicked on a valid scenario: {:?}", o);
            match loaded.unwrap() {
                Ok(p) => {
                    ran.set(ran.get() + 1);
                    check_invariants(p)
                }
                Err(e) => Err(TestCaseError::fail(format!("a valid scenario was refused: {e}\n{o:?}"))),
            }
        })
        .unwrap();
    println!("random valid scenarios: {} run, none refused", ran.get());
}
