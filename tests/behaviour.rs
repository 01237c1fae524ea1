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

/// Every decision and the activity stream, predicted from `ClientDraws` alone along the client's
/// path (come back: a period of use, a Client-ID decision, a recovery decision; online: the
/// first activity, then each next one from the last; leave: log out or not, abandon or not, an
/// offline spell), against the simulation's transactions: each login's time, whether it tries
/// to recover (inband, S13), a recovery under a new Client-ID failing (S17), the size of each
/// rebuild, each session's first activity and every logout.
#[test]
fn client_draws_predict_decisions_rebuilds_and_activity() {
    use impsim::model::sap::Status;
    let p = quiet(&[
        "protocol=\"mqtt5\"",
        "clients=30",
        "duration=48h",
        "startup={dist=\"uniform\",min=\"0s\",max=\"30m\"}",
        "client.session_length={dist=\"lognormal\",median=\"2h\",sigma=1.0}",
        "client.offline={dist=\"lognormal\",median=\"40m\",sigma=1.2}",
        "client.activity={dist=\"exponential\",mean=\"20m\"}",
        "client.client_id_change_prob=0.3",
        "client.recover_prob=0.7",
        "client.logout_prob=0.4",
        "client.abandon_prob=0.15",
        "context.presence_subscriptions={dist=\"uniform\",min=0,max=6}",
    ]);
    let (_, trace) = run(p.clone());
    let ms = |n: u64| SimDuration::from_micros(n * 1000);
    let end = SimTime::ZERO + p.duration.0;
    let (mut logins, mut logouts, mut first_activities, mut failed_new_id) = (0, 0, 0, 0);
    for c in 0..p.clients {
        let tx: Vec<_> = trace.iter().filter(|t| t.client == c).collect();
        let mut d = ClientDraws::new(&p, c);
        let (mut identity, mut holds, mut had) = (0u32, false, false);
        let mut back = SimTime::ZERO + d.startup();
        while back + ms(1000) < end {
            let use_end = back + d.session_length();
            let new_id = had && d.changes_client_id();
            identity += new_id as u32;
            let recover = holds && d.recovers();
            let i = tx
                .iter()
                .position(|t| t.time == back + ms(50))
                .unwrap_or_else(|| panic!("client {c}: no login at {back}"));
            let login = tx[i];
            assert_eq!((login.primitive, login.inband), (P::Login, recover), "client {c} at {back}");
            if recover && new_id {
                assert_eq!(login.status, Status::RecoveryFailed, "client {c}: a new Client-ID recovers nothing");
                failed_new_id += 1;
            }
            logins += 1;
            // A fresh session (Session Present = 0) rebuilds the generation's context, one
            // round trip (100 ms) each; then the session is up.
            let fresh = !recover || login.status == Status::RecoveryFailed;
            let items = if fresh { d.rebuild_items(identity) as usize } else { 0 };
            let rebuilt: Vec<P> = tx[i + 1..].iter().take(items).map(|t| t.primitive).collect();
            assert!(
                rebuilt.iter().all(|p| matches!(p, P::SubscribePresence | P::SubscribeNotification | P::JoinGroup))
            );
            let up = login.time + ms(50) + ms(100) * items as u64;
            holds = true;
            had = true;
            let [b, o, a] = d.plan_online();
            assert_eq!((b, o), (None, None));
            // The first activity of the session, if the period of use lasts that long.
            let first = up + a.expect("activity is on");
            if first + ms(1000) < use_end.min(end) {
                let at = tx.iter().find(|t| t.primitive == P::Activity && t.time > up).expect("an activity");
                assert_eq!(at.time, first + ms(50), "client {c}: first activity");
                first_activities += 1;
            }
            // Each later activity draws the next one; a keep-alive in flight may delay one by a
            // round trip, so follow the simulation's own activity times.
            let mut t = first;
            while t < use_end {
                match tx.iter().find(|x| x.primitive == P::Activity && x.time >= t + ms(50) && x.time <= t + ms(250)) {
                    Some(x) => t = x.time - ms(50) + d.next_activity().unwrap(),
                    None => break,
                }
            }
            if use_end + ms(1000) >= end {
                break;
            }
            // A logout reaches the SAP half a round trip later, and the user leaves then.
            let mut leaves = use_end;
            if d.logs_out() {
                let lo = tx.iter().find(|x| x.primitive == P::Logout && x.time >= use_end).expect("a logout");
                assert!(lo.time - use_end <= ms(250), "client {c}: logout at the end of use");
                leaves = lo.time;
                logouts += 1;
            }
            if d.abandons() {
                identity += 1;
                holds = false;
                had = false;
            }
            back = leaves + d.offline();
        }
    }
    assert!(
        logins > 300 && logouts > 80 && first_activities > 150 && failed_new_id > 10,
        "{logins} {logouts} {first_activities} {failed_new_id}"
    );
}

/// Outages: each online spell draws its next transport break and device power cycle; the
/// earlier comes first, with its own length, and the client reconnects as it ends (MQTT 5: a
/// CONNECT, no probe), unless the period of use ended meanwhile (then the user leaves).
#[test]
fn client_draws_predict_every_outage_and_reconnect() {
    let p = quiet(&[
        "protocol=\"mqtt5\"",
        "clients=30",
        "duration=72h",
        "client.session_length={dist=\"lognormal\",median=\"6h\",sigma=0.8}",
        "client.offline={dist=\"exponential\",mean=\"1h\"}",
        "transport_break.every={dist=\"exponential\",mean=\"1h\"}",
        "transport_break.duration={dist=\"exponential\",mean=\"3m\"}",
        "device_off.every={dist=\"exponential\",mean=\"4h\"}",
        "device_off.duration={dist=\"exponential\",mean=\"10m\"}",
    ]);
    let (_, trace) = run(p.clone());
    let ms = |n: u64| SimDuration::from_micros(n * 1000);
    let end = SimTime::ZERO + p.duration.0;
    let (mut breaks, mut offs, mut exact, mut late) = (0, 0, 0, 0);
    for c in 0..p.clients {
        let tx: Vec<_> = trace.iter().filter(|t| t.client == c).collect();
        let mut d = ClientDraws::new(&p, c);
        let mut back = SimTime::ZERO;
        let mut from_offline = true;
        let mut use_end = back;
        let mut had = false;
        while back + ms(1000) < end {
            if from_offline {
                use_end = back + d.session_length();
            } else if back >= use_end {
                d.logs_out();
                d.abandons();
                back += d.offline();
                from_offline = true;
                continue;
            }
            if from_offline && had {
                d.changes_client_id();
            }
            if had {
                d.recovers();
            }
            // The CONNECT half a round trip after the client is back; an outage that fell due
            // while a keep-alive was in flight starts when it is answered (at most 100 ms late).
            let Some(i) =
                tx.iter().position(|t| t.primitive == P::Login && t.time >= back + ms(50) && t.time <= back + ms(150))
            else {
                panic!("client {c}: no CONNECT at {back} + 50 ms")
            };
            if tx[i].time == back + ms(50) {
                exact += 1
            } else {
                late += 1
            }
            back = tx[i].time - ms(50);
            // Up after the login and, for a fresh session, the rebuild: 100 ms each.
            let rebuilt = tx[i + 1..]
                .iter()
                .take_while(|t| matches!(t.primitive, P::SubscribePresence | P::SubscribeNotification | P::JoinGroup))
                .count();
            let up = back + ms(100) * (1 + rebuilt as u64);
            had = true;
            let [b, o, a] = d.plan_online();
            assert_eq!(a, None);
            let (b, o) = (up + b.unwrap(), up + o.unwrap());
            if b.min(o) >= use_end {
                d.logs_out();
                d.abandons();
                back = use_end + d.offline();
                from_offline = true;
            } else if o < b {
                back = o + d.off_length();
                from_offline = false;
                offs += 1;
            } else {
                back = b + d.break_length();
                from_offline = false;
                breaks += 1;
            }
        }
    }
    assert!(exact > 20 * late, "{exact} CONNECTs exactly where predicted, {late} a round trip late");
    assert!(breaks > 500 && offs > 100, "{breaks} breaks, {offs} power cycles");
}
