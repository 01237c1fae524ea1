//! `impsim tune` finds the retention the closed form predicts. With SAP disconnects and an
//! exponential return delay of mean mu, P(recovery) = 1 - exp(-R/mu): 95% needs R = mu ln 20,
//! about 30 minutes for mu = 10 minutes.

mod common;
use impsim::experiment::tune::{Condition, RETENTION_LADDER, Search};
use std::path::Path;

fn search(budget: Option<&str>) -> impsim::experiment::tune::Outcome {
    let mut base: toml::Table = toml::from_str(common::QUIET).unwrap();
    for o in [
        "clients=300",
        "duration=48h",
        "network.rtt=0s",
        "client.requested_ttl=infinite",
        "sap.ttl_max=infinite",
        "sap.disconnect_every={dist=\"exponential\",mean=\"60m\"}",
        "sap.reestablish_after_disconnect=false",
        "client.relogin_delay={dist=\"exponential\",mean=\"10m\"}",
    ] {
        impsim::scenario::apply_override(&mut base, o).unwrap();
    }
    Search {
        base,
        file: "quiet.toml",
        base_dir: Path::new("."),
        knob: "retention".into(),
        values: RETENTION_LADDER.iter().map(|v| toml::Value::String(v.to_string())).collect(),
        target: Condition::parse("recovery_success_rate>=0.95").unwrap(),
        budgets: budget.map(|b| Condition::parse(b).unwrap()).into_iter().collect(),
        replications: 4,
        seed: 3,
        threads: 2,
    }
    .run()
    .unwrap()
}

#[test]
fn tune_finds_the_closed_form_retention() {
    let o = search(None);
    let rec = o.recommended.expect("a recommendation");
    let r = impsim::engine::parse_duration(&rec.value).unwrap() as f64 / 60e6;
    let expected = 10.0 * 20f64.ln(); // 29.96 minutes
    assert!(r >= expected - 1.0 && r <= expected * 1.25, "recommended {r:.1} min, closed form {expected:.1} min");
    assert!(rec.meets_target && rec.estimates[0].lo >= 0.95);
    // The search is a search: far fewer candidates than the ladder.
    assert!(o.evaluated.len() < RETENTION_LADDER.len() / 2 + 4);
}

#[test]
fn an_impossible_budget_gives_a_compromise_not_a_recommendation() {
    // 1 retained context at peak cannot hold 95% of 300 clients' recoveries.
    let o = search(Some("retained_contexts_peak<=1"));
    assert!(o.recommended.is_none());
    let c = o.compromise.expect("a best compromise");
    assert!(c.within_budgets || c.value == "0s", "{}", c.value);
    assert!(!c.meets_target);
}

#[test]
fn conditions_parse_sizes_and_refuse_unknown_metrics() {
    assert_eq!(Condition::parse("retained_bytes_peak<=2GiB").unwrap().value, (2u64 << 30) as f64);
    assert!(Condition::parse("recovery_rate>=0.9").unwrap_err().contains("not a summary.csv column"));
    assert!(Condition::parse("recovery_success_rate=0.9").is_err());
}
