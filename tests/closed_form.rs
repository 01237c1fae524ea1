//! Agreement with closed-form results. Setting: SAP disconnects at rate 1/m per session,
//! the client comes back after an exponential delay D of mean mu, retention R, and nothing
//! else happens (no network delay, no service time, infinite TTL).
//!   The SAP does not hold disconnected sessions beyond the retention period (S8's MAY off),
//!   so retention alone decides.
//!   - A recovery succeeds iff D < R:  P = 1 - exp(-R/mu).
//!   - Little's law: each cycle (online Exp(m), then away D) puts one context in the store
//!     for min(D, R), so the mean retained count is L = N * mu * (1 - exp(-R/mu)) / (m + mu).

mod common;
use common::*;
use impsim::engine::{SimDuration, SimTime};

fn scenario(retention: &str, clients: u32, hours: u32) -> impsim::model::Params {
    let (c, h, r) = (format!("clients={clients}"), format!("duration={hours}h"), format!("retention={retention}"));
    quiet(&[&[c.as_str(), h.as_str(), r.as_str()][..], &CLOSED_FORM[..]].concat())
}

#[test]
fn recovery_rate_matches_one_minus_exp_of_minus_r_over_mu() {
    for (retention, r_over_mu) in [("5m", 0.5), ("10m", 1.0), ("20m", 2.0)] {
        let (r, _) = run(scenario(retention, 1000, 100));
        let n = r.metric("recovery_attempts");
        let p_hat = r.metric("recovery_success_rate");
        let p = 1.0 - f64::exp(-r_over_mu);
        let half_width = 1.96 * (p * (1.0 - p) / n).sqrt();
        assert!(n > 50_000.0, "{n} attempts");
        assert!(
            (p_hat - p).abs() <= half_width,
            "R/mu = {r_over_mu}: measured {p_hat:.4}, expected {p:.4} +- {half_width:.4} (95%)"
        );
    }
}

#[test]
fn mean_retained_count_matches_littles_law() {
    let (n, m, mu, big_r) = (1000.0, 60.0, 10.0, 10.0);
    let (r, _) = run(scenario("10m", n as u32, 200));
    let expected = n * mu * (1.0 - f64::exp(-big_r / mu)) / (m + mu);
    let measured = r.metric("retained_contexts_mean");
    // Over 200 h the start-up transient (all clients online at t = 0) is under 0.5%.
    assert!((measured - expected).abs() / expected < 0.02, "measured {measured:.2}, Little's law {expected:.2}");
    // The same law in bytes: every context here is 1584 bytes.
    assert!((r.metric("retained_bytes_mean") - 1584.0 * measured).abs() < 1e-6 * 1584.0 * measured);
}

#[test]
fn sap_queue_matches_the_md1_waiting_time() {
    // One worker, Poisson arrivals, a fixed 1 ms service time: M/D/1, whose mean wait is
    // Wq = rho / (2 mu (1 - rho)) (Pollaczek-Khinchine).
    use impsim::engine::time::after;
    use impsim::model::cost::Primitive;
    use impsim::model::sap::Sap;
    let mut p = impsim::model::Params { clients: 1, ..Default::default() };
    p.sap.workers = 1;
    p.sap.service.keepalive = impsim::model::params::Dur(impsim::engine::SimDuration::from_micros(1_000)); // 1 ms
    let mut sap = Sap::new(&p, &["1.3".into()]);
    let key = impsim::engine::RngKey::from_seed(3);
    let rho = 0.7;
    let mean_gap_us = 1_000.0 / rho;
    let mut t = SimTime::ZERO;
    let mut wait_sum = 0.0;
    let n = 400_000u64;
    for i in 0..n {
        t = after(t, SimDuration::from_micros((-mean_gap_us * key.uniform(0, 0, i).ln()) as u64));
        let done = sap.serve(t, Primitive::KeepAlive, SimDuration::ZERO);
        wait_sum += (done - t).as_micros() as f64 - 1_000.0;
    }
    let measured = wait_sum / n as f64;
    let expected = rho / (2.0 * (1.0 / 1_000.0) * (1.0 - rho));
    assert!((measured - expected).abs() / expected < 0.05, "measured {measured:.1}us, M/D/1 {expected:.1}us");
}
