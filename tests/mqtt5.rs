//! MQTT 5 through the protocol seam (`protocol = "mqtt5"`, src/model/protocol/mqtt5.rs): the
//! broker's whole-second timers, reconnection instead of probing, subscriptions right after
//! CONNECT, and the packet sizes, each seen in a simulation.

mod common;
use common::*;
use impsim::engine::time::{HOUR, SECOND, SimDuration, SimTime};
use impsim::model::cost::Primitive as P;
use impsim::model::protocol::Protocol;
use impsim::model::protocol::mqtt5::{Mqtt5, wire};
use impsim::model::sap::Status;

/// The quiet single client under MQTT 5: Keep Alive 10 min sent when due (ratio 1), one
/// device, subscriptions as the quiet scenario's context (4 + 1 + 2).
fn mqtt(extra: &[&str]) -> impsim::model::Params {
    let mut o = vec!["protocol=\"mqtt5\"", "client.keepalive_ratio=1.0"];
    o.extend_from_slice(extra);
    quiet(&o)
}

fn us(d: SimDuration) -> String {
    format!("{}us", d.as_micros())
}

/// The user walks away at 1 h and is silent; the broker drops the connection at its first
/// keep-alive check more than 15 whole minutes (1.5 x 10 min) after the last packet. A return
/// whose CONNECT arrives a second before that takes the session over (Session Present, no
/// recovery needed); a second after, the session has ended and is recovered from retention.
#[test]
fn a_silent_client_is_dropped_at_the_brokers_keep_alive_check() {
    // Ends before the user's second walk-away (at 1 h + offline + 1 h).
    let base = ["client.session_length=1h", "duration=100m"];
    let (_, trace) = run(mqtt(&[&base[..], &["client.offline=2h"]].concat()));
    let last = trace.iter().filter(|t| t.time < SimTime::ZERO + HOUR).map(|t| t.time).max().unwrap();
    let m = Mqtt5::default();
    let dropped = m.session_deadline(last, m.inactivity_timeout(10 * 60 * SECOND));
    assert_eq!(dropped.as_micros() % 6_000_000, 0, "at a check second");
    assert!(dropped - last > 15 * 60 * SECOND && dropped - last <= 15 * 60 * SECOND + 7 * SECOND);
    // The CONNECT of the return arrives half a round trip (50 ms) after the user is back.
    let back_at = |arrival: SimTime| us(arrival - (SimTime::ZERO + HOUR) - SimDuration::from_micros(50_000));
    let before = format!("client.offline={}", back_at(dropped - SECOND));
    let (r, _) = run(mqtt(&[&base[..], &[before.as_str()]].concat()));
    let c = &r.outcome.metrics.c;
    assert_eq!((c.continuations, c.recovery_successes, count(&r, "auto_logouts")), (1, 0, 0), "still open: taken over");
    let after = format!("client.offline={}", back_at(dropped + SECOND));
    let (r, _) = run(mqtt(&[&base[..], &[after.as_str()]].concat()));
    let c = &r.outcome.metrics.c;
    assert_eq!(
        (c.continuations, c.recovery_successes, count(&r, "auto_logouts")),
        (0, 1, 1),
        "dropped, then recovered"
    );
}

/// A client back from a transport break does not probe with a keep-alive: it connects again
/// at once with the same Client Identifier and takes its still-open session over.
#[test]
fn a_client_back_from_a_break_reconnects_instead_of_probing() {
    let (r, trace) = run(mqtt(&["transport_break.every=\"3h\"", "transport_break.duration=\"2m\"", "duration=4h"]));
    // The break starts 3 h after the session is up, once the PINGREQ due then is answered (a
    // round trip, 100 ms), and lasts 2 min: the next packet is the CONNECT sent as it ends.
    let i = trace.iter().position(|t| t.time > SimTime::ZERO + 3 * HOUR).unwrap();
    let (at_break, first_after) = (&trace[i], &trace[i + 1]);
    assert_eq!(at_break.primitive, P::KeepAlive);
    assert_eq!(first_after.primitive, P::Login, "the first packet after the break is a CONNECT");
    assert_eq!(first_after.time - at_break.time, 2 * 60 * SECOND + SimDuration::from_micros(100_000));
    let c = &r.outcome.metrics.c;
    assert_eq!((c.continuations, count(&r, "recovery_attempts"), count(&r, "logins_fresh")), (1, 0, 1), "taken over");
    let next = trace.iter().find(|t| t.time > first_after.time).unwrap();
    assert_eq!((next.primitive, next.time - first_after.time), (P::KeepAlive, 10 * 60 * SECOND));
}

/// A return after the session expired: one CONNECT, answered Session Present = 0 with a fresh
/// session already set up, and the subscriptions at once; no second CONNECT (IMPS needs a
/// 502 and a second login, S20).
#[test]
fn session_present_0_comes_with_a_fresh_session() {
    let (r, trace) = run(mqtt(&["retention=5m", "client.session_length=1h", "client.offline=2h", "duration=3h30m"]));
    let back = trace.iter().position(|t| t.time > SimTime::ZERO + 3 * HOUR).unwrap();
    let after: Vec<(P, Status)> = trace[back..back + 9].iter().map(|t| (t.primitive, t.status)).collect();
    assert_eq!(after[0], (P::Login, Status::RecoveryFailed), "Session Present = 0");
    assert!(after[1..8].iter().all(|(p, s)| *p != P::Login && *s == Status::Ok), "{after:?}");
    assert_eq!(after[8].0, P::KeepAlive);
    let c = &r.outcome.metrics.c;
    assert_eq!((count(&r, "logins_fresh"), c.logins_after_502, count(&r, "fail_expired")), (2, 1, 1));
    assert_eq!(count(&r, "tx_login"), 2);
}

/// A fresh session subscribes right after CONNACK: no service or capability negotiation, and
/// every exchange is billed at its MQTT packet size, whatever the scenario's IMPS sizes.
#[test]
fn subscriptions_follow_the_connect_and_packets_cost_their_wire_size() {
    let (r, trace) = run(mqtt(&["duration=5m"]));
    let first: Vec<P> = trace.iter().take(8).map(|t| t.primitive).collect();
    let sub = [P::SubscribePresence; 4];
    assert_eq!(first[0], P::Login);
    assert_eq!(&first[1..5], &sub);
    assert_eq!(&first[5..], &[P::SubscribeNotification, P::JoinGroup, P::JoinGroup]);
    assert_eq!(count(&r, "tx_service_negotiation") + count(&r, "tx_capability_negotiation"), 0);
    assert_eq!(count(&r, "bytes_login"), (wire::CONNECT + wire::CONNACK) as u64);
    assert_eq!(count(&r, "bytes_subscribe_presence"), 4 * (wire::SUBSCRIBE + wire::SUBACK) as u64);
}

/// The closed form of tests/closed_form.rs under MQTT 5's whole-second expiry: with a broker
/// clock of 5 simulated minutes the retention applied is R + V, V uniform on (0, 5 min], so a
/// return after an exponential delay of mean mu recovers with probability
/// 1 - exp(-R/mu) * (mu/tau) * (1 - exp(-tau/mu)), more than IMPS's 1 - exp(-R/mu).
#[test]
fn recovery_rate_matches_the_closed_form_of_whole_second_expiry() {
    let p =
        mqtt(&[&["clients=1000", "duration=100h", "retention=10m", "mqtt.clock=5m"][..], &CLOSED_FORM[..]].concat());
    let (r, _) = run(p);
    let n = r.metric("recovery_attempts");
    let p_hat = r.metric("recovery_success_rate");
    let (big_r, mu, tau) = (10.0, 10.0, 5.0);
    let p = 1.0 - f64::exp(-big_r / mu) * (mu / tau) * (1.0 - f64::exp(-tau / mu));
    let half_width = 1.96 * (p * (1.0 - p) / n).sqrt();
    assert!(n > 50_000.0, "{n} attempts");
    assert!((p_hat - p).abs() <= half_width, "measured {p_hat:.4}, expected {p:.4} +- {half_width:.4} (95%)");
    assert!(p_hat > 1.0 - f64::exp(-1.0) + 4.0 * half_width, "distinguishable from exact expiry");
}

/// The `[mqtt]` table: read from a scenario, refused when it cannot be a broker's clock.
#[test]
fn the_broker_rules_are_read_and_checked() {
    let p = mqtt(&["mqtt.clock=30s", "mqtt.keepalive_check=3"]);
    assert_eq!(p.protocol.name(), "mqtt5");
    for (bad, says) in [
        ("mqtt.clock=0s", "mqtt.clock"),
        ("mqtt.keepalive_check=0", "mqtt.keepalive_check"),
        ("mqtt.check=6", "mqtt"),
        ("protocol=\"mqtt3\"", "protocol"),
    ] {
        let o = vec![bad.to_string()];
        let e = impsim::scenario::parse(QUIET, "quiet.toml", std::path::Path::new("."), &o).unwrap_err().to_string();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

/// The broker rules are written into a scenario's manifest only when they are not the
/// defaults, so results written before MQTT 5 existed keep their bytes.
#[test]
fn default_broker_rules_are_left_out_of_written_scenarios() {
    let v = serde_json::to_value(quiet(&[])).unwrap();
    assert!(v.get("mqtt").is_none() && v.get("protocol").is_none(), "{v}");
    let v = serde_json::to_value(mqtt(&["mqtt.clock=30s"])).unwrap();
    assert_eq!(v["mqtt"]["clock"], "30s");
    assert_eq!(v["mqtt"]["keepalive_check"], 6);
    assert_eq!(v["protocol"], "mqtt5");
}

/// IMPS bills the scenario's own message sizes (`[cost.messages]`); only MQTT 5 replaces them
/// with its packet sizes.
#[test]
fn imps_bills_the_scenarios_message_sizes() {
    let sizes = "cost.messages.login={xml=11,wbxml=22,pts=33}";
    let (r, _) = run(quiet(&[sizes, "duration=5m"]));
    assert_eq!(count(&r, "bytes_login"), 22, "one login in WBXML");
    let (r, _) = run(mqtt(&[sizes, "duration=5m"]));
    assert_eq!(count(&r, "bytes_login"), (wire::CONNECT + wire::CONNACK) as u64);
}
