//! `model::behaviour::ClientDraws` replays a simulated client's user, draw for draw: what
//! `impsim live` relies on to play the same users against a real broker.

mod common;
use common::*;
use impsim::engine::time::{SimDuration, SimTime};
use impsim::model::behaviour::ClientDraws;
use impsim::model::cost::Primitive as P;

/// Under MQTT 5 (no probe after an absence) every return starts with a CONNECT half a round
/// trip (50 ms) after the user is back. Predicting those instants from `ClientDraws` alone,
/// following the client's path (come back: a period of use, a Client-ID decision, a recovery
/// decision; leave: log out or not, abandon or not, an offline spell), gives the simulation's
/// CONNECT times exactly, for every client.
#[test]
fn client_draws_predict_every_return_of_a_simulated_client() {
    let p = quiet(&[
        "protocol=\"mqtt5\"",
        "clients=40",
        "duration=48h",
        "startup={dist=\"uniform\",min=\"0s\",max=\"30m\"}",
        "client.session_length={dist=\"lognormal\",median=\"2h\",sigma=1.0}",
        "client.offline={dist=\"lognormal\",median=\"40m\",sigma=1.2}",
        "client.client_id_change_prob=0.3",
        "client.recover_prob=0.7",
    ]);
    let (r, trace) = run(p.clone());
    let half_rtt = SimDuration::from_micros(50_000);
    let end = SimTime::ZERO + p.duration.0;
    let mut compared = 0;
    for c in 0..p.clients {
        let mut d = ClientDraws::new(&p, c);
        let mut back = SimTime::ZERO + d.startup();
        let mut first = true;
        let mut predicted = Vec::new();
        while back + half_rtt <= end {
            predicted.push(back + half_rtt);
            let period = d.session_length();
            if !first {
                d.changes_client_id();
                d.recovers();
            }
            first = false;
            assert_eq!(d.plan_online(), [None, None, None], "no outage or activity in this scenario");
            d.logs_out();
            d.abandons();
            back = back + period + d.offline();
        }
        let logins: Vec<SimTime> =
            trace.iter().filter(|t| t.client == c && t.primitive == P::Login).map(|t| t.time).collect();
        assert_eq!(logins, predicted, "client {c}");
        compared += logins.len();
    }
    assert!(compared > 400, "{compared} returns compared");
    assert!(r.metric("client_id_changes") > 50.0, "the Client-ID decisions were exercised");
}

/// The rebuild after a fresh login has the size of the generation's context.
#[test]
fn client_draws_give_each_generation_its_subscriptions() {
    let p = quiet(&["context.presence_subscriptions={dist=\"uniform\",min=0,max=20}", "clients=50"]);
    let sizes: Vec<u32> = (0..50).map(|c| ClientDraws::new(&p, c).rebuild_items(0)).collect();
    assert!(sizes.iter().all(|&n| (3..=23).contains(&n)), "{sizes:?}");
    assert!(sizes.iter().any(|&n| n != sizes[0]), "drawn per client");
    let again: Vec<u32> = (0..50).map(|c| ClientDraws::new(&p, c).rebuild_items(0)).collect();
    assert_eq!(sizes, again, "a pure function of (seed, slot, generation)");
    let next: Vec<u32> = (0..50).map(|c| ClientDraws::new(&p, c).rebuild_items(1)).collect();
    assert_ne!(sizes, next, "a new Client-ID generation has its own profile");
}
